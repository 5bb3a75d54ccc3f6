"""Pydantic's validation errors -> readable rows: did-you-mean for keys and choices, "belongs in train.lr"
for a key in the wrong section, and numbers that YAML typed where the spec wants text (`0110`) given back
their source text.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import re
import types
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from .. import methods
from .locate import Loc, Locator, Row, dotted, get_at, kind_of, set_at, yaml_loader
from .root import Spec

_CROSS = re.compile(r"^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*): (.+)$", re.S)


def validate(
    data: dict[str, Any], locator: Locator, rows: list[Row], raw: Callable[[Loc], str | None]
) -> Spec | None:
    """Validate; a number that YAML typed where the field wants text gets its source text back."""
    for _ in range(4):
        try:
            return Spec.model_validate(data)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
        if not _retype_numbers(errors, data, raw):
            break
    rows.extend(error_rows(errors, data, locator))
    return None


def _retype_numbers(errors: list[Any], data: Any, raw: Callable[[Loc], str | None]) -> bool:
    changed = False
    for err in errors:
        value = err.get("input")
        if err["type"] != "string_type" or isinstance(value, bool) or not is_number_like(value):
            continue
        loc = clean_loc(err["loc"], data, err["type"])
        text = raw(loc)
        if text is not None and same_scalar(text, value) and get_at(data, loc) == value:
            set_at(data, loc, text)
            changed = True
    return changed


def is_number_like(x: Any) -> bool:
    return isinstance(x, int | float | datetime.date) and not isinstance(x, bool)


def same_scalar(text: str, value: Any) -> bool:
    try:
        return yaml_loader().load(text) == value
    except Exception:  # noqa: BLE001 - any unreadable text simply is not the same scalar
        return False


def clean_loc(loc: tuple[Any, ...], data: Any, err_type: str) -> Loc:
    """Pydantic's loc -> the path in the data: drop the method tag and union member names."""
    out: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if i == 1 and loc[0] == "method" and isinstance(node, dict) and node.get("name") == part:
            continue  # the discriminator's tag, not a key of the data
        if isinstance(node, dict):
            if part in node:
                out.append(part)
                node = node[part]
            elif last and err_type in ("missing", "extra_forbidden"):
                out.append(part)
        elif isinstance(node, list) and isinstance(part, int):
            out.append(part)
            node = node[part] if 0 <= part < len(node) else None
    return tuple(out)


def error_rows(errors: list[Any], data: Any, locator: Locator) -> list[Row]:
    rows: list[Row] = []
    groups: dict[Loc, list[Any]] = {}
    for err in errors:
        if not err["loc"] and err["type"] in ("value_error", "assertion_error"):
            rows.extend(cross_rows(err["msg"], data, locator))
            continue
        groups.setdefault(clean_loc(err["loc"], data, err["type"]), []).append(err)
    for loc, errs in groups.items():
        where_loc, message, at_key = _message(loc, errs, data)
        rows.append(dataclasses.replace(locator.row(where_loc, message, key=at_key), kind="field"))
    return rows


def cross_rows(msg: str, data: Any, locator: Locator) -> list[Row]:
    """Cross-field messages (Spec's, and the callers' `checks`) start with a dotted path: point each at that key."""
    rows = []
    for line in _strip_prefix(msg).split("\n"):
        m = _CROSS.match(line)
        if m:
            rows.append(locator.row(tuple(m.group(1).split(".")), m.group(2)))
        elif line.strip():
            rows.append(locator.row((), line))
    return [dataclasses.replace(r, kind="cross") for r in rows]


def _strip_prefix(msg: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            return msg[len(prefix) :]
    return msg


def _message(loc: Loc, errs: list[Any], data: Any) -> tuple[Loc, str, bool]:
    """(where to point, message, point at the key rather than the value)."""
    if len(errs) > 1:  # one value failed every member of a union
        msgs = list(dict.fromkeys(_strip_prefix(e["msg"]) for e in errs))
        head = "Input should be "
        if all(m.startswith(head) for m in msgs):
            text = head + " or ".join(m[len(head) :] for m in msgs)
        else:
            text = "; ".join(msgs)
        value = errs[0].get("input")
        return loc, text + ("" if isinstance(value, dict | list) else _got(value)), False
    err = errs[0]
    kind, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    if kind == "extra_forbidden":
        return loc, _unknown_key(loc, fields_at(loc[:-1], data), data), True
    if kind == "missing":
        fields = fields_at(loc[:-1], data) or {}
        info = fields.get(str(loc[-1]))
        desc = f": {info.description}" if info is not None and info.description else ""
        return loc, f"missing required key {loc[-1]!r}{desc}", False
    if kind == "literal_error":
        return loc, _bad_choice(value, re.findall(r"'([^']*)'", str(ctx.get("expected", "")))), False
    if kind == "union_tag_invalid":
        names = list(_method_classes())
        return (*loc, "name"), _bad_choice(ctx.get("tag"), names, what="method"), False
    if kind == "union_tag_not_found":
        return loc, f"missing 'name': the method, one of {', '.join(_method_classes())}", False
    if kind in ("model_attributes_type", "model_type", "dict_type"):
        hint = (
            f"; write {loc[-1]}: {{name: {value}}}"
            if loc == ("method",) and isinstance(value, str) and value in _method_classes()
            else ""
        )
        return loc, f"must be a mapping (key: value){_got(value)}{hint}", False
    if kind == "string_pattern_mismatch" and loc == ("name",):
        rule = "a run name starts with a letter or digit and holds only letters, digits, '.', '_' and '-'"
        return loc, f"{value!r}: {rule}", False
    if kind == "string_type" and is_number_like(value):
        return loc, f"Input should be a valid string (got {value!r}; quote it: '{value}')", False
    message = _strip_prefix(err["msg"])
    return loc, message + ("" if kind in ("value_error", "assertion_error") else _got(value)), False


def _got(value: Any) -> str:
    if isinstance(value, dict | list):
        return f" (got a {kind_of(value)})"
    text = repr(value)
    return f" (got {text[:60] + '...' if len(text) > 60 else text})"


def _unknown_key(loc: Loc, fields: Mapping[str, FieldInfo] | None, data: Any) -> str:
    key = loc[-1]
    if not fields:
        return f"unknown key {key!r}"
    names = list(fields)
    close = difflib.get_close_matches(str(key), names, n=1, cutoff=0.6)
    if close:
        return f"unknown key {key!r} — did you mean {close[0]!r}?"
    if len(loc) == 2 and loc[0] == "method":
        owners = [n for n, cls in _method_classes().items() if key in cls.model_fields]
        if owners:
            current = get_at(data, ("method", "name"))
            return (
                f"unknown key {key!r} for method {current}: it is a key of method {', '.join(owners)} "
                f"(allowed here: {', '.join(names)})"
            )
    homes = [h for h in _field_homes().get(str(key), []) if h != dotted(loc)]
    if homes:
        return f"unknown key {key!r} here — it belongs in {' or '.join(homes[:3])}"
    return f"unknown key {key!r}; allowed: {', '.join(names)}"


def _bad_choice(value: Any, allowed: list[str], what: str = "value") -> str:
    close = difflib.get_close_matches(str(value), allowed, n=1, cutoff=0.5)
    hint = f" — did you mean {close[0]!r}?" if close else ""
    return f"unknown {what} {value!r}{hint} (allowed: {', '.join(allowed)})"


def dedupe(rows: list[Row]) -> list[Row]:
    """Sort by position; drop validation rows below a location that already has a problem upstream."""
    upstream = [r.loc for r in rows if r.kind == "read" and r.loc]
    first: dict[str, Row] = {}
    for row in rows:
        if row.kind in ("field", "cross") and any(row.loc[: len(u)] == u for u in upstream):
            continue
        first.setdefault(row.render(), row)
    return sorted(first.values(), key=lambda r: r.order)


def _section_models(annotation: Any) -> list[type[BaseModel]]:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _section_models(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return [m for a in get_args(annotation) for m in _section_models(a)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return []


def _method_classes() -> dict[str, type[BaseModel]]:
    """{method name: its section model}, from the method registry."""
    return {name: methods.section(name) for name in methods.names()}


def fields_at(parent: Loc, data: Any, any_method: bool = False) -> dict[str, FieldInfo] | None:
    """The fields of the section at `parent` (the method variant chosen by the data's method.name)."""
    fields: dict[str, FieldInfo] = dict(Spec.model_fields)
    node = data
    for part in parent:
        info = fields.get(str(part)) if isinstance(part, str) else None
        if info is None:
            return None
        node = node.get(part) if isinstance(node, dict) else None
        models = _section_models(info.annotation)
        if len(models) > 1:
            name = node.get("name") if isinstance(node, dict) else None
            chosen = _method_classes().get(name) if isinstance(name, str) else None
            if chosen is not None and not any_method:
                models = [chosen]
            elif not any_method:
                return None
        if not models:
            return None
        fields = {}
        for m in models:
            fields.update(m.model_fields)
    return fields


_HOMES: dict[str, list[str]] = {}


def _field_homes() -> dict[str, list[str]]:
    """{field name: the dotted sections that have it}, for "it belongs in train" hints."""
    if _HOMES:
        return _HOMES

    def walk(model: type[BaseModel], prefix: str, seen: set[type[BaseModel]]) -> None:
        for name, info in model.model_fields.items():
            path = f"{prefix}.{name}" if prefix else name
            if path not in _HOMES.setdefault(name, []):
                _HOMES[name].append(path)
            for sub in _section_models(info.annotation):
                if sub not in seen:
                    walk(sub, path, seen | {sub})

    walk(Spec, "", {Spec})
    return _HOMES
