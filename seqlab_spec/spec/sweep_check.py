"""The spec's `sweep:` section, checked at load time: its keys must be paths of the spec, and (with a valid base
spec and a grid of at most SWEEP_CHECK_LIMIT runs) every combination must validate, each problem pointed at the
swept value it is about."""

from __future__ import annotations

import copy
import difflib
from typing import Any

from pydantic import ValidationError

from .locate import Doc, Loc, Locator, Row, dotted
from .messages import clean_loc, error_rows, fields_at, is_number_like, same_scalar
from .overrides import grid_size, set_path, split_path, sweep_grid
from .root import Spec

SWEEP_CHECK_LIMIT = 512  # combinations validated one by one; bigger grids get only their keys checked


def retype_sweep_items(data: dict[str, Any], locator: Locator) -> None:
    """`sweep: {method.unmask: [0000, 0110]}`: give number-typed items their source text where the
    swept field wants text, so the stored sweep holds what the user wrote."""
    sweep = data.get("sweep")
    if not isinstance(sweep, dict):
        return
    for key, values in sweep.items():
        if not isinstance(values, list):
            continue
        try:
            path = split_path(str(key))
        except ValueError:
            continue
        for i, item in enumerate(values):
            if not is_number_like(item):
                continue
            trial = {k: v for k, v in data.items() if k != "sweep"}
            trial = copy.deepcopy(trial)
            try:
                set_path(trial, path, item)
                Spec.model_validate(trial)
            except ValueError as exc:  # ValidationError is a ValueError
                errors = exc.errors(include_url=False) if isinstance(exc, ValidationError) else []
                if any(e["type"] == "string_type" and clean_loc(e["loc"], trial, e["type"]) == path for e in errors):
                    text = locator.raw(("sweep", key, i))
                    if text is not None and same_scalar(text, item):
                        values[i] = text


def check_sweep(data: dict[str, Any], spec: Spec | None, locator: Locator) -> list[Row]:
    """Sweep keys must be paths of the spec; with a valid base spec every combination must validate."""
    sweep = data.get("sweep")
    if not isinstance(sweep, dict) or not sweep:
        return []
    rows: list[Row] = []
    paths: dict[str, tuple[str, ...]] = {}
    for key, values in sweep.items():
        loc: Loc = ("sweep", key)
        try:
            path = split_path(str(key))
        except ValueError as exc:
            rows.append(locator.row(loc, str(exc), key=True))
            continue
        problem = _unknown_path(path, data)
        if problem:
            rows.append(locator.row(loc, problem, key=True))
        elif isinstance(values, list) and not values:
            rows.append(locator.row(loc, "an empty list of values: give at least one"))
        else:
            paths[str(key)] = path
    if rows or spec is None or not isinstance(data.get("sweep"), dict) or grid_size(sweep) > SWEEP_CHECK_LIMIT:
        return rows
    base = {k: v for k, v in data.items() if k != "sweep"}
    seen: set[str] = set()
    for combo in sweep_grid(sweep):
        trial = copy.deepcopy(base)
        for key, value in combo.items():
            set_path(trial, paths[key], copy.deepcopy(value))
        try:
            Spec.model_validate(trial)
            continue
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
        scratch = Locator([Doc("sweep", (), 0)])
        for r in error_rows(errors, trial, scratch):
            if r.message in seen:
                continue
            seen.add(r.message)
            # point at the swept value the problem is about; a cross-field problem names the whole combination
            target: Loc = ("sweep",)
            label = ", ".join(f"{k}={v!r}" for k, v in combo.items())
            for key, value in combo.items():
                if r.loc[: len(paths[key])] == paths[key]:
                    target = ("sweep", key, sweep[key].index(value))
                    label = label if r.kind == "cross" else f"{key}={value!r}"
            detail = f"{dotted(r.loc)}: {r.message}" if r.loc else r.message
            rows.append(locator.row(target, f"with {label}: {detail}"))
    return rows


def _unknown_path(path: tuple[str, ...], data: Any) -> str | None:
    for i, part in enumerate(path):
        fields = fields_at(path[:i], data, any_method=True)
        if fields is None:
            return None if i > 0 else f"unknown key path {'.'.join(path)!r}"
        if part not in fields:
            close = difflib.get_close_matches(part, list(fields), n=1, cutoff=0.6)
            hint = f" — did you mean {'.'.join((*path[:i], close[0]))!r}?" if close else ""
            return f"unknown key path {'.'.join(path)!r}{hint}"
    return None
