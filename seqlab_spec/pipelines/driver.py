"""The pipeline driver: every method's run is the same five steps, in this order, written once here.

A method module (the registry's `pipeline`, seqlab_spec.methods) gives the steps its notebook calls one by one:

- `prepare_data(spec) -> data`: the splits and the label set (`data.labels`), printed as they are read;
- `build_model(spec, labels) -> (model, tokenizer)`;
- `fit(spec, model, tokenizer, data, run_dir) -> fitted`: training, checkpoints under run_dir (resumed from the
  last complete one after an interruption); `fitted.model` is the trained model. The taggers and sift return
  their Trainer; oie-multitask returns its `Fitted`, having trained each stage of its regime in turn;
- `evaluate(spec, model, tokenizer, data) -> (metrics, prediction rows)`;
- `save(spec, run_dir, model, tokenizer, fitted, metrics, rows, wall_s, data) -> metrics`: the run folder's
  files (runner/rundir.py `write_run`); `wall_s` counts every step before it, as `metrics.json` reports.

`run_steps` is a method's `run` (what `seqlab-spec run --no-notebook` calls); `fit_steps` is what a
data-parallel rank > 0 does (runner/launch.py): the same data, model and training, then nothing, since rank 0 alone
evaluates and writes.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

STEPS = ("prepare_data", "build_model", "fit", "evaluate", "save")


def _fit(steps: Any, spec: Any, run_dir: Path) -> tuple[Any, Any, Any]:
    data = steps.prepare_data(spec)
    model, tokenizer = steps.build_model(spec, data.labels)
    return data, tokenizer, steps.fit(spec, model, tokenizer, data, run_dir)


def run_steps(steps: Any, spec: Any, run_dir: Path) -> dict:
    """prepare_data -> build_model -> fit -> evaluate -> save with `steps` (a module, or any object with the
    five functions); returns the saved metrics. The steps are looked up when called, so a patched one is used."""
    t0 = time.time()
    data, tokenizer, fitted = _fit(steps, spec, run_dir)
    metrics, rows = steps.evaluate(spec, fitted.model, tokenizer, data)
    return steps.save(spec, run_dir, fitted.model, tokenizer, fitted, metrics, rows, time.time() - t0, data)


def fit_steps(steps: Any, spec: Any, run_dir: Path) -> Any:
    """prepare_data -> build_model -> fit only (a data-parallel rank > 0); returns what `fit` returned."""
    return _fit(steps, spec, run_dir)[2]
