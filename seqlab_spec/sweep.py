"""One spec -> the list of runs it asks for (sweep grid, unmask pattern lists, few-shot samples)."""

from __future__ import annotations

import copy
import itertools
import re
from typing import Any

from .spec import Spec


def _set(d: dict, dotted: str, value: Any) -> None:
    *head, last = dotted.split(".")
    for k in head:
        d = d.setdefault(k, {})
    d[last] = value


def _short(value: Any) -> str:
    """A value as it may appear in a run name (letters, digits, . _ -)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(value)).strip("_") or "x"


def grid(spec: Spec) -> dict[str, list[Any]]:
    """The sweep axes, with the sugar spelled out."""
    axes = dict(spec.sweep)
    m = spec.method
    if m.name == "unmask" and "method.unmask" not in axes:
        if m.unmask == "all":
            axes["method.unmask"] = [format(i, f"0{m.groups}b") for i in range(2**m.groups)]
        elif isinstance(m.unmask, list):
            axes["method.unmask"] = list(m.unmask)
    fs = spec.data.few_shot
    if fs is not None and fs.n > 1 and "data.few_shot.sample" not in axes:
        axes["data.few_shot.sample"] = list(range(fs.n))
    if m.name == "oie-multitask":  # method.k x method.n_samples: one run per (k, sample)
        from .pipelines.oie import sweep_axes  # imports no torch/transformers/matplotlib

        for key, values in sweep_axes(spec).items():
            axes.setdefault(key, values)
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
            _set(d, key, value)
        suffix = "-".join(f"{k.split('.')[-1]}-{_short(v)}" for k, v in zip(axes, combo, strict=True))
        d["name"] = f"{spec.name}.{suffix}"
        out.append(Spec.model_validate(d))
    return out
