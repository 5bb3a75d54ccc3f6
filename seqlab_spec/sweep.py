"""One spec -> the list of runs it asks for (sweep grid, unmask pattern lists, few-shot samples)."""

from __future__ import annotations

import copy
import itertools
import re
from typing import Any

from .spec import Spec
from .spec.method import TRANSFER_REGIMES
from .spec.overrides import set_path, split_path


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
    for key, values in transfer_axes(spec).items():  # oie-multitask: one run per (k, sample)
        axes.setdefault(key, values)
    return axes


def transfer_axes(spec: Spec) -> dict[str, list[Any]]:
    """The runs a few-shot/joint oie-multitask spec asks for, as sweep axes: one k per run, sample i =
    train.seed + i (which seeds both the k-shot draw and the training)."""
    m = spec.method
    if m.name != "oie-multitask" or m.regime not in TRANSFER_REGIMES:
        return {}
    axes: dict[str, list[Any]] = {}
    if len(m.k) > 1:
        axes["method.k"] = [[k] for k in m.k]
    if m.n_samples > 1:
        axes["method.n_samples"] = [1]
        axes["train.seed"] = [spec.train.seed + i for i in range(m.n_samples)]
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
