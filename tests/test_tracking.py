"""run.report_to: the backends reach the Trainer's report_to, a missing package stops before a run folder
exists, and tensorboard writes its event files into the run folder (where tensorboard is installed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT, TINY

from seqlab_spec import cli, machine
from seqlab_spec.spec.load import load_spec
from seqlab_spec.training.train import training_arguments

QUICKSTART = ROOT / "specs" / "quickstart.yaml"


def test_report_to_reaches_the_trainer_and_defaults_to_none(tmp_path: Path) -> None:
    assert training_arguments(load_spec(QUICKSTART), tmp_path, True).report_to == []
    both = load_spec(QUICKSTART, ["run.report_to=[tensorboard, mlflow]"])
    assert training_arguments(both, tmp_path, True).report_to == ["tensorboard", "mlflow"]
    assert training_arguments(load_spec(QUICKSTART, ["run.report_to=wandb"]), tmp_path, True).report_to == ["wandb"]


def test_a_backend_that_is_not_installed_stops_the_run_before_its_folder(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(machine, "installed", lambda package: package != "mlflow")
    out = tmp_path / "runs"
    assert cli.main(["run", str(QUICKSTART), "--no-notebook", "--out", str(out), "--set", "run.report_to=mlflow"]) == 1
    assert capsys.readouterr().err == (
        "error: run.report_to: mlflow is not installed: pip install mlflow, or set run.report_to: none\n"
    )
    assert not out.exists()


@pytest.mark.slow
def test_tensorboard_event_files_land_in_the_run_folder(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard", reason="tensorboard is not installed (pip install 'seqlab-spec[tracking]')")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from seqlab_spec.runner.execute import run_spec

    (run_dir,) = run_spec(load_spec(QUICKSTART, [*TINY, "run.report_to=tensorboard"]), tmp_path, use_notebook=False)
    events = list((run_dir / "tensorboard").glob("events.out.tfevents.*"))
    assert events, sorted(p.name for p in run_dir.iterdir())
    acc = EventAccumulator(str(run_dir / "tensorboard"))
    acc.Reload()
    logged = [json.loads(line) for line in (run_dir / "train_log.jsonl").read_text().splitlines()]
    losses = [(r["step"], r["loss"]) for r in logged if "loss" in r]
    assert [(e.step, pytest.approx(e.value, rel=1e-5)) for e in acc.Scalars("train/loss")] == losses
    assert not (run_dir / "checkpoints").exists()
