"""Notebook cells as the course kit sees them: tags, sources, and the `parameters` cell's assignments."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from ..errors import SeqlabError

SOLUTION, CHECK, PARAMETERS = "solution", "check", "parameters"
# Cells papermill adds to an executed notebook: never part of a release or a submission's own code.
INJECTED = "injected-parameters"


def read_notebook(path: Path) -> NotebookNode:
    """The notebook at `path` (nbformat 4); SeqlabError naming the file when missing or not a notebook."""
    path = Path(path)
    if not path.is_file():
        raise SeqlabError(f"{path}: no such notebook; check the path")
    try:
        return nbformat.read(str(path), as_version=4)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same user error
        raise SeqlabError(
            f"{path}: not a readable Jupyter notebook ({type(exc).__name__}: {exc}); "
            "open it in Jupyter and save it again"
        ) from None


def tags(cell: NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def has_tag(cell: NotebookNode, tag: str) -> bool:
    return tag in tags(cell)


def text(cell: NotebookNode) -> str:
    """A cell's source as one string (nbformat may hold it as a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def parameters_index(nb: NotebookNode) -> int | None:
    """Index of the first code cell tagged `parameters`, as papermill finds it."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and has_tag(cell, PARAMETERS):
            return i
    return None


def _assignments(source: str) -> dict[str, ast.Assign]:
    """Top-level `name = value` statements of a parameters cell (the last one wins, as when it runs)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    found: dict[str, ast.Assign] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            found[node.targets[0].id] = node
    return found


def parameter_names(source: str) -> set[str]:
    return set(_assignments(source))


def parameter_value(source: str, name: str, default: Any = None) -> Any:
    """The literal value assigned to `name` in a parameters cell, or `default` (also when not a literal)."""
    node = _assignments(source).get(name)
    if node is None:
        return default
    try:
        return ast.literal_eval(node.value)
    except ValueError:
        return default


def set_parameters(source: str, values: dict[str, Any]) -> str:
    """`source` with each `name = ...` value set to repr(value), comments kept; missing names appended."""
    lines = source.split("\n")
    found = _assignments(source)
    # Replace from the bottom up so earlier offsets stay valid.
    for name, node in sorted(
        ((n, found[n]) for n in values if n in found), key=lambda item: item[1].value.lineno, reverse=True
    ):
        v = node.value
        start, end = v.lineno - 1, v.end_lineno - 1  # type: ignore[operator]
        head = lines[start].encode()[: v.col_offset].decode()
        tail = lines[end].encode()[v.end_col_offset :].decode()  # type: ignore[index]
        lines[start : end + 1] = [f"{head}{values[name]!r}{tail}"]
    missing = [f"{name} = {value!r}" for name, value in values.items() if name not in found]
    body = "\n".join(lines).rstrip("\n")
    return "\n".join([body, *missing]) if body else "\n".join(missing)
