"""The method registry: one row per method, the only place that lists them.

A row names, as import strings, the method's spec section (a pydantic model, torch-free, with its sweep axes)
and its pipeline module (the steps, which import torch), plus its teaching notebook. The spec builds its
`method:` union and its did-you-mean hints from the rows; the runner, sweep, preflight, validate, launch and
predict reach a method only through `section()` / `pipeline()` / `notebook()`. This module imports nothing of
the package but its error type, so the spec can read it without torch; a pipeline module is imported when a method runs.

A pipeline module provides `run(spec, run_dir) -> metrics` and `predict(model_dir, spec, sentences,
batch_size) -> tags`; `prepare_data`, `build_model` and `fit` for data-parallel ranks > 0 (launch);
optionally `preflight(spec, splits, config)`, the checks only its data and model can answer (DataError /
ModelError). A method that trains writes the five steps (prepare_data, build_model, fit, evaluate, save) and
`run` as one call to the pipeline driver, `pipelines.driver.run_steps`; one with nothing to train may write `run`
itself. A method outside the package registers its row with `register` (see docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from .errors import SeqlabError


@dataclass(frozen=True)
class MethodEntry:
    name: str  # the spec's `method.name`
    section: str  # "module:Class", the method's spec section (a subclass of spec.method.MethodSection)
    pipeline: str  # module with run / predict (and prepare_data, build_model, fit, preflight)
    notebook: str | None = None  # file under notebooks/ run by `seqlab-spec run`; None: library only


_SPEC = "seqlab_spec.spec.method"
_REGISTRY: dict[str, MethodEntry] = {
    e.name: e
    for e in (
        MethodEntry("encoder", f"{_SPEC}:EncoderMethod", "seqlab_spec.pipelines.tagger", "01_encoder_baseline.ipynb"),
        MethodEntry("unmask", f"{_SPEC}:UnmaskMethod", "seqlab_spec.pipelines.tagger", "03_decoder_unmasking.ipynb"),
        MethodEntry("sift", f"{_SPEC}:SiftMethod", "seqlab_spec.pipelines.sift", "04_sift_response_losses.ipynb"),
        MethodEntry(
            "oie-multitask", f"{_SPEC}:OieMultitaskMethod", "seqlab_spec.pipelines.oie", "02_oie_domain_transfer.ipynb"
        ),
    )
}
_on_change: list[Callable[[], None]] = []  # the spec rebuilds its `method:` union when the rows change


class UnknownMethod(SeqlabError):
    """A name no row has (the spec's validation reports unknown names first; this guards direct calls)."""


def names() -> tuple[str, ...]:
    """Every method name, in registration order (the order the spec's union and its messages list them)."""
    return tuple(_REGISTRY)


def get(name: str) -> MethodEntry:
    try:
        return _REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, names(), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise UnknownMethod(f"unknown method {name!r} (known: {', '.join(names())}){hint}") from None


def section(name: str) -> type:
    """The method's spec section class (imports only its module, torch-free by contract)."""
    module, _, cls = get(name).section.partition(":")
    return getattr(importlib.import_module(module), cls)


def sections() -> list[type]:
    return [section(n) for n in names()]


def pipeline(name: str) -> ModuleType:
    """The method's pipeline module (imported now: this is where torch comes in)."""
    return importlib.import_module(get(name).pipeline)


def notebook(name: str) -> str | None:
    return get(name).notebook


def register(entry: MethodEntry) -> MethodEntry:
    """Add (or replace) a method; the spec accepts `method: {name: ...}` for it from now on. A row whose section
    cannot be imported or is not a MethodSection tagged with its name raises here and is not kept."""
    previous = _REGISTRY.get(entry.name)
    # the section's module first: it may import the spec package (a module holding a section and its steps
    # does), which must finish loading with the rows it already knows before this one joins them
    importlib.import_module(entry.section.partition(":")[0])
    _REGISTRY[entry.name] = entry
    try:
        _changed()
    except Exception:
        if previous is None:
            del _REGISTRY[entry.name]
        else:
            _REGISTRY[entry.name] = previous
        _changed()
        raise
    return entry


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)
    _changed()


def on_change(callback: Callable[[], None]) -> None:
    """Call `callback` after every register/unregister (spec.root: rebuild the union of method sections)."""
    _on_change.append(callback)


def _changed() -> None:
    for callback in _on_change:
        callback()
