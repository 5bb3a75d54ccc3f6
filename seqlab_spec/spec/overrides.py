"""Dotted paths into a spec dict: `--set a.b=value` overrides and sweep grids.

Shared by the loader (overrides, sweep checks) and by whoever expands a sweep into runs, so both
agree on what `train.lr` means.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class Override:
    """One `--set` expression, split: `path` is the dotted key, `text` the unparsed YAML value."""

    expr: str
    path: tuple[str, ...]
    text: str


def parse_override(expr: str) -> Override:
    """Split `a.b=value`; ValueError (with the fix) when it is not of that form."""
    key, sep, text = expr.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ValueError("expected --set a.b=value (e.g. --set train.epochs=1)")
    path = tuple(key.split("."))
    bad = [p for p in path if not _KEY.match(p)]
    if bad:
        raise ValueError(f"{key!r} is not a dotted key path: each part is a name such as train or lr")
    return Override(expr=expr, path=path, text=text.strip())


def split_path(dotted: str) -> tuple[str, ...]:
    """`train.lr` -> ("train", "lr"); ValueError when a part is not a plain name."""
    path = tuple(dotted.split("."))
    if not all(_KEY.match(p) for p in path):
        raise ValueError(f"{dotted!r} is not a dotted key path such as train.lr")
    return path


def set_path(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    """Set data[a][b]... = value, creating missing sections; ValueError when a parent is not a mapping."""
    node: Any = data
    for i, key in enumerate(path[:-1]):
        child = node.get(key)
        if child is None:
            child = node[key] = {}
        elif not isinstance(child, dict):
            where = ".".join(path[: i + 1])
            raise ValueError(f"{where} holds {child!r}, not a section: cannot set {'.'.join(path)}")
        node = child
    node[path[-1]] = value


def sweep_grid(sweep: Mapping[str, list[Any]]) -> Iterator[dict[str, Any]]:
    """Every combination of a sweep, as {dotted path: value}, in the order the keys are written."""
    keys = list(sweep)
    for values in itertools.product(*(sweep[k] for k in keys)):
        yield dict(zip(keys, values, strict=True))


def grid_size(sweep: Mapping[str, list[Any]]) -> int:
    """Number of runs a sweep makes (1 for an empty sweep)."""
    n = 1
    for values in sweep.values():
        n *= len(values)
    return n
