"""Where a spec's relative paths point: data files and local model folders written in the spec file resolve
against its folder (written on the command line or taken from the environment: the working dir); `pkg:NAME/file`
names a file bundled under seqlab_spec/datasets."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Any

from ..models.aliases import ALIASES
from .locate import Loc, Locator, get_at
from .reader import ReadState

PACKAGE_DIR = Path(__file__).resolve().parents[1]
# Fields holding data files: relative values resolve against the spec file's folder.
PATH_FIELDS: tuple[Loc, ...] = (
    ("data", "train"),
    ("data", "dev"),
    ("data", "test"),
    ("data", "target", "train"),
    ("data", "target", "dev"),
    ("data", "target", "test"),
    ("data", "target", "unlabeled"),
    ("signal", "path"),
)


def resolve_paths(data: dict[str, Any], locator: Locator, base: Path, state: ReadState) -> None:
    """Relative data paths and model folders: against the spec's folder when written in the file, else the
    working dir."""
    for loc in PATH_FIELDS:
        parent = get_at(data, loc[:-1])
        if not isinstance(parent, dict) or not isinstance(parent.get(loc[-1]), str):
            continue
        doc, _ = locator.doc_for(loc)
        anchor = base if doc.is_file and loc not in state.env_paths else Path.cwd()
        try:
            parent[loc[-1]] = resolve_data_path(parent[loc[-1]], anchor)
        except ValueError as exc:
            state.rows.append(locator.row(loc, str(exc)))
    for loc in (("model", "name"), ("data", "hf", "name")):  # local folders or hub ids
        parent = get_at(data, loc[:-1])
        if isinstance(parent, dict) and isinstance(parent.get(loc[-1]), str):
            doc, _ = locator.doc_for(loc)
            anchor = base if doc.is_file and loc not in state.env_paths else Path.cwd()
            parent[loc[-1]] = resolve_model_name(parent[loc[-1]], anchor)


def resolve_data_path(value: str, base: Path) -> str:
    """`pkg:NAME/file` -> the bundled dataset file; relative -> under `base`; absolute stays."""
    if not value:
        return value
    if value.startswith("pkg:"):
        rest = value[4:]
        parts = PurePosixPath(rest).parts
        if not rest or rest.startswith("/") or ".." in parts:
            raise ValueError(f"{value!r}: bundled paths are pkg:NAME/file (a file under seqlab_spec/datasets/NAME)")
        return str(PACKAGE_DIR / "datasets" / rest)
    p = Path(value).expanduser()
    return os.path.normpath(p if p.is_absolute() else base / p)


def resolve_model_name(value: str, base: Path) -> str:
    """A local model (or data.hf dataset) folder written relative to the spec resolves like a data path;
    aliases and hub ids (owner/name, which exist on no disk) stay as written."""
    if value in ALIASES or not value:
        return value
    p = Path(value).expanduser()
    if p.is_absolute():
        return str(p)
    explicit = value in (".", "..") or value.startswith(("./", "../", ".\\", "..\\"))
    candidate = base / p
    return os.path.normpath(candidate) if explicit or candidate.exists() else value
