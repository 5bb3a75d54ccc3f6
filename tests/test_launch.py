"""seqlab_spec.runner.launch: torchrun command and environment, what it refuses before starting anything, and a real
2-process gloo run on CPU against a single-process run with the same global batch."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from conftest import ROOT, TINY

from seqlab_spec.errors import SeqlabError, SpecError
from seqlab_spec.runner.launch import (
    NPROC_ENV,
    RANK_LOGS_ENV,
    LaunchError,
    default_nproc,
    launch,
    main,
    torchrun_command,
    worker_env,
)

QUICKSTART = ROOT / "specs" / "quickstart.yaml"


def test_torchrun_command_runs_the_worker_module_on_this_interpreter(tmp_path: Path) -> None:
    assert torchrun_command(tmp_path / "run", 3) == [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=3",
        "-m",
        "seqlab_spec.runner.launch",
        str(tmp_path / "run"),
    ]


def test_an_accelerate_config_starts_the_same_workers_through_accelerate_launch(tmp_path: Path) -> None:
    cfg = tmp_path / "fsdp.yaml"
    assert torchrun_command(tmp_path / "run", 4, cfg) == [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--config_file",
        str(cfg),
        "--num_processes",
        "4",
        "-m",
        "seqlab_spec.runner.launch",
        str(tmp_path / "run"),
    ]


def test_default_nproc_is_one_per_gpu_else_two(monkeypatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert default_nproc() == 2
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    assert default_nproc() == 4


def test_worker_env_splits_the_cores_and_keeps_a_users_thread_count(tmp_path: Path) -> None:
    env = worker_env(2, tmp_path, base={"PATH": "/bin"})
    assert env == {
        "PATH": "/bin",
        RANK_LOGS_ENV: str(tmp_path),
        NPROC_ENV: "2",
        "OMP_NUM_THREADS": str(max(1, os.cpu_count() // 2)),
    }
    assert worker_env(64, tmp_path, base={})["OMP_NUM_THREADS"] == str(max(1, os.cpu_count() // 64))
    assert worker_env(2, tmp_path, base={"OMP_NUM_THREADS": "7"})["OMP_NUM_THREADS"] == "7"


def test_refuses_notebooks_and_bad_process_counts_before_writing_anything(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    with pytest.raises(SeqlabError) as e:
        launch(QUICKSTART, TINY, nproc=2, out_dir=out, no_notebook=False)
    assert str(e.value) == (
        "--launcher torchrun runs the pipeline without papermill (one notebook kernel per process cannot share a "
        "run): add --no-notebook"
    )
    with pytest.raises(SeqlabError, match=r"^--nproc: 0 processes; give at least 1$"):
        launch(QUICKSTART, TINY, nproc=0, out_dir=out)
    with pytest.raises(SeqlabError, match=r"^--accelerate-config: .*missing.yaml does not exist; write one with `acc"):
        launch(QUICKSTART, TINY, nproc=2, out_dir=out, accelerate_config=tmp_path / "missing.yaml")
    with pytest.raises(SpecError, match="train.epochs"):
        launch(QUICKSTART, [*TINY, "train.epochs=-1"], nproc=2, out_dir=out)
    assert not out.exists()


def test_runs_through_the_runner_with_its_run_folders_and_sweep_report(tmp_path: Path, monkeypatch, capsys) -> None:
    """launch = run_spec with torchrun workers executing each prepared folder: same folders, same report name."""
    from seqlab_spec.runner import launch as launch_mod

    started: list[Path] = []
    monkeypatch.setattr(launch_mod, "_run_workers", lambda run_dir, nproc, config: started.append(run_dir))
    out = tmp_path / "runs"
    runs = launch(QUICKSTART, [*TINY, "sweep={train.seed: [1, 2]}"], nproc=2, out_dir=out)
    assert runs == started and [r.name.split("-")[0] for r in runs] == ["quickstart.seed", "quickstart.seed"]
    assert all((r / "spec.yaml").is_file() for r in runs)
    (report,) = [p for p in out.iterdir() if p not in runs]
    assert report.name.startswith("quickstart-sweep-") and (report / "report.md").is_file()
    printed = capsys.readouterr().out
    assert f"run folder: {runs[0]}  (2 processes; global batch 16 x 2 x 1 = 32)" in printed
    assert f"sweep report: {report / 'report.md'}" in printed


def test_a_worker_that_did_not_get_the_processes_asked_for_stops_before_training(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(NPROC_ENV, "2")
    monkeypatch.setenv("WORLD_SIZE", "1")
    monkeypatch.setenv("RANK", "0")
    assert main([str(tmp_path / "never-read")]) == 1
    assert capsys.readouterr().err == (
        "error: 2 processes were asked for but the launcher started 1: accelerate launches a single process on "
        "CPU (FSDP/DeepSpeed configs are for GPUs); on CPU launch without an accelerate config\n"
    )
    assert issubclass(LaunchError, SeqlabError)


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory) -> Path:
    """A BERT without dropout: the two runs differ only by how batches are split."""
    from seqlab_spec.models.tiny import save_tiny_encoder

    return save_tiny_encoder(tmp_path_factory.mktemp("tiny-bert"))


def _weights(run: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(run / "model" / "model.safetensors")


def _rows(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "predictions.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_two_gloo_processes_match_one_process_with_the_same_global_batch(tiny_bert: Path, tmp_path: Path, capfd):
    from seqlab_spec.runner.execute import run_spec
    from seqlab_spec.spec.load import load_spec

    # random batches (not length-grouped) so a global batch of 16 = the two ranks' 8 + 8; fp32, no dropout
    sets = [s for s in TINY if not s.startswith("train.batch_size")] + [
        f"model.name={tiny_bert}",
        "train.batch_order=random",
        "train.precision=fp32",
        "train.lr=3e-3",
        "run.notebook=null",
    ]
    (ddp,) = launch(QUICKSTART, [*sets, "train.batch_size=8"], nproc=2, out_dir=tmp_path / "ddp")
    captured = capfd.readouterr()
    logged = captured.out + captured.err
    (single,) = run_spec(load_spec(QUICKSTART, [*sets, "train.batch_size=16"]), tmp_path / "single", use_notebook=False)

    # one run folder, complete, recorded as a 2-process torchrun run
    assert [p.name for p in (tmp_path / "ddp").iterdir()] == [ddp.name]
    record = json.loads((ddp / "run.json").read_text())
    assert record["status"] == "complete"
    assert {k: record["attempts"][-1][k] for k in ("launcher", "nproc")} == {"launcher": "torchrun", "nproc": 2}
    # rank 0 alone prints: the summary and the truncation warning each appear once, not once per rank
    assert logged.count("dev   span F1") == 1
    assert sum("lie beyond train.max_length" in line and line.startswith("test:") for line in logged.splitlines()) == 1

    # same training: every weight within a small fraction of one Adam step (lr 3e-3) on average, and the same
    # predictions and scores. (Adam turns float-noise gradients of rows that barely train into whole steps,
    # so single entries can differ by ~lr; the mean cannot.)
    a, b = _weights(ddp), _weights(single)
    assert a.keys() == b.keys()
    mean_diff = sum(float((a[k] - b[k]).abs().sum()) for k in a) / sum(a[k].numel() for k in a)
    assert mean_diff < 3e-3 * 0.05
    preds_a, preds_b = _rows(ddp), _rows(single)
    words = sum(len(r["pred"]) for r in preds_a)
    same = sum(p == q for x, y in zip(preds_a, preds_b, strict=True) for p, q in zip(x["pred"], y["pred"], strict=True))
    assert same / words >= 0.99
    ma, mb = (json.loads((r / "metrics.json").read_text()) for r in (ddp, single))
    for split in ("dev", "test"):
        a, b = ma[split]["strict"], mb[split]["strict"]
        assert abs(a["micro"]["f1"] - b["micro"]["f1"]) <= 0.02
        assert abs(a["token_accuracy"] - b["token_accuracy"]) <= 0.01


@pytest.mark.parametrize("module", ["tagger", "sift", "oie"])
def test_a_secondary_rank_stops_after_training(module: str, monkeypatch, tmp_path: Path) -> None:
    """Rank 0 alone evaluates and writes: a rank > 0 returns as soon as fit() is done."""
    import importlib

    from seqlab_spec.runner.launch import train_share

    pipeline = importlib.import_module(f"seqlab_spec.pipelines.{module}")
    method = {"tagger": "encoder", "sift": "sift", "oie": "oie-multitask"}[module]
    steps: list[str] = []
    monkeypatch.setattr(pipeline, "prepare_data", lambda spec: type("D", (), {"labels": None})())
    monkeypatch.setattr(pipeline, "build_model", lambda spec, labels: (None, None))
    monkeypatch.setattr(pipeline, "fit", lambda *a: steps.append("fit") or type("T", (), {"model": None})())
    monkeypatch.setattr(pipeline, "evaluate", lambda *a: steps.append("evaluate") or ({}, []))
    spec = type("S", (), {"method": type("M", (), {"name": method})()})()
    assert train_share(spec, tmp_path) is None
    assert steps == ["fit"] and list(tmp_path.iterdir()) == []
