"""Build notebooks/*.ipynb from notebooks/src/*.py (percent format), so notebook changes review as text.

    python notebooks/build.py          # rewrite every notebook
    python notebooks/build.py --check  # exit 1 if a notebook is out of date (a test runs this)

Cell markers: `# %% [markdown]` (the following `# ` lines are markdown), `# %%` (code),
`# %% tags=["parameters"]` to tag a cell, and `# %% include: _file.py` for a code cell kept in one file and
shared by every notebook (the Colab set-up). Sources whose name starts with `_` are such parts, not notebooks.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).parent
MARK = re.compile(r"^# %%(?P<md> \[markdown\])?(?: tags=(?P<tags>\[.*\]))?\s*$")
INCLUDE = re.compile(r"^# %% include: (?P<file>\S+)\s*$")


def expand_includes(text: str, folder: Path) -> str:
    """`# %% include: _part.py` -> a code cell holding that file."""
    out = []
    for line in text.splitlines():
        m = INCLUDE.match(line)
        out.append(f"# %%\n{(folder / m.group('file')).read_text(encoding='utf-8')}" if m else line)
    return "\n".join(out)


def cells_from_source(text: str) -> list:
    cells, kind, tags, buf = [], None, [], []

    def flush() -> None:
        if kind is None:
            return
        body = "\n".join(buf).strip("\n")
        if kind == "markdown":
            body = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in body.splitlines())
            cell = nbformat.v4.new_markdown_cell(body)
        else:
            cell = nbformat.v4.new_code_cell(body)
        if tags:
            cell.metadata["tags"] = tags
        cells.append(cell)

    for line in text.splitlines():
        m = MARK.match(line)
        if m:
            flush()
            kind = "markdown" if m.group("md") else "code"
            tags = json.loads(m.group("tags")) if m.group("tags") else []
            buf = []
        elif kind is not None:
            buf.append(line)
    flush()
    return cells


def build(src: Path) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells_from_source(expand_includes(src.read_text(encoding="utf-8"), src.parent))
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{src.stem[:2]}-{i:03d}"
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return nbformat.writes(nb) + "\n"


def main(argv: list[str]) -> int:
    stale = []
    for src in sorted(p for p in (HERE / "src").glob("*.py") if not p.name.startswith("_")):
        target = HERE / f"{src.stem}.ipynb"
        text = build(src)
        if "--check" in argv:
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                stale.append(target.name)
        else:
            target.write_text(text, encoding="utf-8")
    if stale:
        print(f"out of date: {', '.join(stale)}; run: python notebooks/build.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
