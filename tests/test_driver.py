"""The pipeline driver (pipelines/driver.py): the five steps in order, each handed what the one before returned;
a data-parallel rank > 0 stops after fit. Fake steps, so the test reads the wiring, not learning."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from seqlab_spec.pipelines import sift, tagger
from seqlab_spec.pipelines.driver import STEPS, fit_steps, run_steps


def _fake_steps(calls: list) -> SimpleNamespace:
    data = SimpleNamespace(labels="LABELS")
    fitted = SimpleNamespace(model="TRAINED")

    def prepare_data(spec):
        calls.append(("prepare_data", spec))
        return data

    def build_model(spec, labels):
        calls.append(("build_model", labels))
        return "MODEL", "TOKENIZER"

    def fit(spec, model, tokenizer, d, run_dir):
        calls.append(("fit", model, tokenizer, d is data, run_dir))
        return fitted

    def evaluate(spec, model, tokenizer, d):
        calls.append(("evaluate", model, tokenizer, d is data))
        return {"test": 1.0}, [{"split": "test"}]

    def save(spec, run_dir, model, tokenizer, f, metrics, rows, wall_s, d):
        calls.append(("save", run_dir, model, tokenizer, f is fitted, metrics, rows, wall_s >= 0, d is data))
        return {"saved": metrics}

    return SimpleNamespace(
        prepare_data=prepare_data, build_model=build_model, fit=fit, evaluate=evaluate, save=save
    )


def test_run_steps_runs_the_five_steps_in_order_with_what_each_returned(tmp_path: Path) -> None:
    calls: list = []
    assert run_steps(_fake_steps(calls), "SPEC", tmp_path) == {"saved": {"test": 1.0}}
    assert calls == [
        ("prepare_data", "SPEC"),
        ("build_model", "LABELS"),
        ("fit", "MODEL", "TOKENIZER", True, tmp_path),
        ("evaluate", "TRAINED", "TOKENIZER", True),  # the trained model, not the one build_model returned
        ("save", tmp_path, "TRAINED", "TOKENIZER", True, {"test": 1.0}, [{"split": "test"}], True, True),
    ]
    assert [c[0] for c in calls] == list(STEPS)


def test_fit_steps_stops_after_training(tmp_path: Path) -> None:
    calls: list = []
    assert fit_steps(_fake_steps(calls), "SPEC", tmp_path).model == "TRAINED"
    assert [c[0] for c in calls] == ["prepare_data", "build_model", "fit"]


def test_every_builtin_pipeline_gives_the_driver_its_steps() -> None:
    from seqlab_spec.pipelines import oie

    for module in (tagger, sift, oie):
        assert all(callable(getattr(module, step)) for step in STEPS), module.__name__
