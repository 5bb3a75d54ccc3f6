"""A run's output carries no deprecation warnings caused by the project's own calls into the pinned stack:
one tiny run of each method (gradient checkpointing on, where the deprecated names used to be called), with
every DeprecationWarning / FutureWarning traced to the first caller outside the library that raised it."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pytest
from conftest import ROOT, TINY
from tiny_models import single_thread

from seqlab_spec.models.tiny import save_tiny_decoder, save_tiny_encoder
from seqlab_spec.runner.execute import run_spec
from seqlab_spec.spec.load import load_spec

LORA = "model.peft={method: lora, r: 4, alpha: 8, dropout: 0.0, target_modules: all-linear}"
LITBANK = "pkg:litbank_events/{}.bio.tsv"
METHODS = {
    "encoder": ["method={name: encoder}"],
    "unmask": ["method={name: unmask, unmask: '0110'}", LORA],
    "sift": ["method={name: sift, k: 1, max_new_tokens: 4}", LORA, "data.limit.dev=4", "data.limit.test=4"],
    "oie-multitask": [
        "method={name: oie-multitask, injection: none, regime: zero-shot, k: [3], n_samples: 1}",
        f"data.target={{train: {LITBANK.format('train')}, test: {LITBANK.format('test')}}}",
    ],
}


def own_deprecations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record each deprecation warning whose first caller outside the warning library is seqlab_spec."""
    found: list[str] = []
    real = warnings.warn

    def warn(message, category=None, stacklevel=1, source=None, **kwargs):
        kind = category or (type(message) if isinstance(message, Warning) else UserWarning)
        if issubclass(kind, DeprecationWarning | FutureWarning):
            frame = sys._getframe(1)
            origin = frame.f_globals.get("__name__", "").split(".")[0]
            while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] == origin:
                frame = frame.f_back
            if frame is not None and frame.f_globals.get("__name__", "").startswith("seqlab_spec"):
                found.append(f"{message} ({frame.f_code.co_filename}:{frame.f_lineno})")
        return real(message, category, stacklevel + 1, source, **kwargs)

    monkeypatch.setattr(warnings, "warn", warn)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("method", list(METHODS))
def test_one_tiny_run_of_each_method_calls_nothing_deprecated(method: str, tmp_path: Path, monkeypatch) -> None:
    decoder = method in ("unmask", "sift")
    model = (
        save_tiny_decoder(tmp_path / "tiny", tokenizer="smollm2-135m")
        if decoder
        else save_tiny_encoder(tmp_path / "tiny")
    )
    sets = [*TINY, "train.max_steps=2", f"model.name={model}", "train.gradient_checkpointing=true", *METHODS[method]]
    spec = load_spec(ROOT / "specs" / "quickstart.yaml", sets)
    found = own_deprecations(monkeypatch)
    with single_thread(), warnings.catch_warnings():
        warnings.simplefilter("always")
        run_spec(spec, tmp_path / "runs", use_notebook=False)
    assert found == []
