"""`seqlab-spec ls`: the shipped specs (with their description) and notebooks (with their title)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "ls",
        help="list the shipped specs and notebooks",
        description="List specs/*.yaml with their description and notebooks/*.ipynb with their title.",
    )
    p.add_argument(
        "--root", type=Path, default=project_root(), help="project folder holding specs/ and notebooks/"
    )
    return p


def project_root() -> Path:
    """The folder holding the shipped specs/ and notebooks/ (the package once installed, else the checkout)."""
    from ..shipped import shipped_root

    return shipped_root()


def spec_description(path: Path) -> str:
    """The spec's `description:` (read as YAML only: listing must work even where data is missing)."""
    from ruamel.yaml import YAML

    try:
        data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    except Exception as exc:  # noqa: BLE001 - any unreadable spec is listed, not fatal
        return f"(unreadable: {type(exc).__name__}; run `seqlab-spec validate {path}`)"
    description = data.get("description") if isinstance(data, dict) else None
    return str(description).strip() if description else "(no description)"


def notebook_title(path: Path) -> str:
    """The first markdown heading of a notebook."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return "(unreadable notebook)"
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        for line in text.splitlines():
            if line.lstrip().startswith("#"):
                return line.strip().lstrip("#").strip()
    return "(no heading)"


def _table(title: str, rows: list[tuple[str, str]]) -> list[str]:
    lines = [f"{title}:"]
    if not rows:
        return [*lines, "  (none)"]
    width = max(len(name) for name, _ in rows)
    return lines + [f"  {name.ljust(width)}  {text}" for name, text in rows]


def run(args: argparse.Namespace) -> int:
    root: Path = args.root
    specs = [(p.name, spec_description(p)) for p in sorted((root / "specs").glob("*.yaml"))]
    notebooks = [(p.name, notebook_title(p)) for p in sorted((root / "notebooks").glob("*.ipynb"))]
    lines = (
        _table(f"specs ({root / 'specs'})", specs)
        + [""]
        + _table(f"notebooks ({root / 'notebooks'})", notebooks)
    )
    print("\n".join(lines))
    return 0
