"""One spec -> the list of runs it asks for (sweep grid, unmask pattern lists, few-shot samples)."""

from __future__ import annotations

import copy
import itertools
import re
from typing import Any

from ..spec import Spec
from ..spec.overrides import set_path, split_path


def _short(value: Any) -> str:
    """A value as it may appear in a run name (letters, digits, . _ -)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(value)).strip("_") or "x"


def grid(spec: Spec) -> dict[str, list[Any]]:
    """The sweep axes, with the sugar spelled out: the method's own (`MethodSection.sweep_axes`: unmask pattern
    lists, oie-multitask k and samples), then few-shot samples; an axis the spec's `sweep` names wins."""
    axes = dict(spec.sweep)
    for key, values in spec.method.sweep_axes(spec).items():
        axes.setdefault(key, values)
    fs = spec.data.few_shot
    if fs is not None and fs.n > 1 and "data.few_shot.sample" not in axes:
        axes["data.few_shot.sample"] = list(range(fs.n))
    return axes


def expand(spec: Spec) -> list[Spec]:
    """Every combination of the axes as its own validated Spec, named after what differs."""
    axes = grid(spec)
    if not axes:
        return [spec]
    base = spec.model_dump(mode="json")
    base["sweep"] = {}
    out = []
    for combo in itertools.product(*axes.values()):
        d = copy.deepcopy(base)
        for key, value in zip(axes, combo, strict=True):
            set_path(d, split_path(key), value)
        suffix = "-".join(f"{k.split('.')[-1]}-{_short(v)}" for k, v in zip(axes, combo, strict=True))
        d["name"] = f"{spec.name}.{suffix}"
        out.append(Spec.model_validate(d))
    return out
