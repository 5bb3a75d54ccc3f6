"""Where each value of a spec was written: the file's line:col, or the `--set` override that set it.

The loader reads YAML with ruamel's round-trip loader, which keeps the position of every key and value; these
classes map a location in the spec (`("train", "lr")`) back to that position, so that every problem is
reported as `file:line:col  train.lr  message`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarbool import ScalarBoolean

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Row:
    where: str
    loc: Loc
    message: str
    order: tuple[int, int, int]
    # "read": a value left unusable while reading (hides pydantic's rows about it); "field" and "cross":
    # pydantic's rows about one field or across sections; "input": other problems (overrides, paths)
    kind: str = "input"

    def render(self) -> str:
        return f"{self.where}  {dotted(self.loc) or '-'}  {self.message}"


@dataclass
class Doc:
    """One YAML text and where its root lands in the spec: the file at (), an override at its key path."""

    label: str  # the file's name, "--set a.b=v" or "params"
    prefix: Loc
    index: int  # 0 = the file; overrides count from 1 (later ones win)
    text: str = ""
    tree: Any = None
    is_file: bool = False

    def position(self, rest: Loc, key: bool = False) -> tuple[int, int] | None:
        """0-based (line, col) of the value (or key) at `rest`, else of its nearest written ancestor."""
        node = self.tree
        pos = (node.lc.line, node.lc.col) if isinstance(node, CommentedMap | CommentedSeq) else None
        for i, part in enumerate(rest):
            at_key = key and i == len(rest) - 1
            if isinstance(node, CommentedMap):
                k = _original_key(node, part)
                if k is _MISSING:
                    return pos
                try:
                    pos = tuple(node.lc.key(k) if at_key else node.lc.value(k))  # type: ignore[assignment]
                except (KeyError, TypeError):  # a key merged in with `<<:` has no position of its own
                    pass
                node = node[k]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
                try:
                    pos = tuple(node.lc.item(part))  # type: ignore[assignment]
                except (KeyError, TypeError):
                    pass
                node = node[part]
            else:
                return pos
        return pos

    def where(self, rest: Loc, key: bool = False) -> tuple[str, tuple[int, int, int]]:
        if not self.is_file:
            return self.label, (self.index, 0, 0)
        pos = self.position(rest, key)
        if pos is None:
            return self.label, (0, 0, 0)
        return f"{self.label}:{pos[0] + 1}:{pos[1] + 1}", (0, pos[0], pos[1])

    def raw(self, rest: Loc) -> str | None:
        """The source text of the plain scalar at `rest` (to recover `0110` that YAML read as 110)."""
        if self.tree is None:
            return None
        if not rest and not isinstance(self.tree, CommentedMap | CommentedSeq):
            return self.text.strip() or None
        pos = self.position(rest)
        if pos is None:
            return None
        lines = self.text.splitlines()
        if pos[0] >= len(lines):
            return None
        m = re.match(r"[^\s,\[\]{}#&*!'\"][^\s,\[\]{}#]*", lines[pos[0]][pos[1] :])
        return m.group(0) if m else None


class _Missing:
    pass


_MISSING = _Missing()


def _original_key(node: CommentedMap, part: str | int) -> Any:
    for k in node:
        if plain_key(k) == part:
            return k
    return _MISSING


class Locator:
    """Maps a spec location to the document that wrote it (the last override wins)."""

    def __init__(self, docs: list[Doc]):
        self.docs = docs

    def doc_for(self, loc: Loc) -> tuple[Doc, Loc]:
        for doc in reversed(self.docs):
            n = len(doc.prefix)
            if loc[:n] == doc.prefix:
                return doc, loc[n:]
        return self.docs[0], loc

    def row(self, loc: Loc, message: str, key: bool = False) -> Row:
        doc, rest = self.doc_for(loc)
        where, order = doc.where(rest, key)
        return Row(where, loc, message, order)

    def raw(self, loc: Loc) -> str | None:
        doc, rest = self.doc_for(loc)
        return doc.raw(rest)


def plain_key(k: Any) -> str:
    if k is None:
        return "null"
    if isinstance(k, bool | ScalarBoolean):
        return "true" if k else "false"
    return str(k)


def dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def yaml_loader() -> YAML:
    y = YAML(typ="rt", pure=True)
    y.allow_duplicate_keys = False
    return y


def kind_of(x: Any) -> str:
    if isinstance(x, Mapping):
        return "mapping"
    if isinstance(x, list | tuple):
        return "list"
    return type(x).__name__


def get_at(data: Any, loc: Loc) -> Any:
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return None
    return node


def set_at(data: Any, loc: Loc, value: Any) -> None:
    parent = get_at(data, loc[:-1])
    parent[loc[-1]] = value
