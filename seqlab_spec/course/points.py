"""Points per check: the instructor's points file, else the check cell's `points` metadata, else 1.

Points file (JSON): {"<notebook name>" or "*": {"<check number, from 1>" or "<cell id>": points}}.
A notebook's own section wins over "*"; within a section a cell id wins over a check number.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import SeqlabError

PointsTable = dict[str, dict[str, float]]
DEFAULT_POINTS = 1.0


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return float(value)


def load_points(path: Path) -> PointsTable:
    """Read and validate a points file; SeqlabError naming the file (and line) and the fix."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SeqlabError(f"{path}: cannot read the points file ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise SeqlabError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None
    example = 'e.g. {"01_encoder_baseline": {"1": 2, "2": 3}, "*": {}}'
    if not isinstance(data, dict):
        raise SeqlabError(f"{path}: expected an object of notebook name -> {{check: points}}, {example}")
    table: PointsTable = {}
    for notebook, section in data.items():
        if not isinstance(section, dict):
            raise SeqlabError(
                f"{path}: {notebook!r} should map check numbers or cell ids to points, {example}"
            )
        table[notebook] = {}
        for key, value in section.items():
            points = _number(value)
            if points is None:
                raise SeqlabError(
                    f"{path}: {notebook} -> {key}: points must be a number >= 0 (got {value!r})"
                )
            table[notebook][str(key)] = points
    return table


def points_for(
    table: PointsTable | None, notebook: str, index: int, cell_id: str | None, metadata: Any
) -> float:
    """The points check number `index` (cell `cell_id`) of `notebook` is worth."""
    for section in ((table or {}).get(notebook), (table or {}).get("*")):
        if not section:
            continue
        if cell_id is not None and cell_id in section:
            return section[cell_id]
        if str(index) in section:
            return section[str(index)]
    meta = _number(metadata)
    return DEFAULT_POINTS if meta is None else meta


def unknown_keys(table: PointsTable | None, notebook: str, checks: list[tuple[int, str | None]]) -> list[str]:
    """Keys of `notebook`'s own section that name no check (a typo in the points file, most likely)."""
    known = {str(i) for i, _ in checks} | {cid for _, cid in checks if cid}
    return sorted(k for k in (table or {}).get(notebook, {}) if k not in known)
