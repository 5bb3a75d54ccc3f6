"""`seqlab-spec run --resume RUN_DIR`: a killed run continues from its last complete checkpoint and ends exactly
where an uninterrupted run ends; a changed spec is refused with a `key: old -> new` diff."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from conftest import ROOT, TINY, without_timings

from seqlab_spec.cli import main
from seqlab_spec.runner.resume import resume_spec, spec_changes
from seqlab_spec.runner.rundir import clear_leftovers, write_json, write_resolved_spec
from seqlab_spec.spec.load import load_spec
from seqlab_spec.training.checkpoints import discard_checkpoints, drop_incomplete_checkpoints, last_checkpoint

QUICKSTART = ROOT / "specs" / "quickstart.yaml"


# ------------------------------------------------------------------------------------- checkpoints on disk


def _checkpoint(folder: Path, step: int, *, skip: str | None = None, state: str | None = None) -> Path:
    """A checkpoint folder with every file a resume reads (contents irrelevant except trainer_state.json)."""
    d = folder / f"checkpoint-{step}"
    d.mkdir(parents=True)
    for name in ("model.safetensors", "optimizer.pt", "scheduler.pt", "rng_state.pth", "trainer_state.json"):
        if name != skip:
            (d / name).write_text("x")
    if skip != "trainer_state.json":
        (d / "trainer_state.json").write_text(
            state if state is not None else json.dumps({"global_step": step})
        )
    return d


def test_last_checkpoint_is_the_highest_complete_one(tmp_path: Path) -> None:
    assert last_checkpoint(tmp_path / "none") is None
    good = _checkpoint(tmp_path, 4)
    _checkpoint(tmp_path, 2)
    _checkpoint(tmp_path, 10, skip="optimizer.pt")  # killed before the optimizer state was written
    _checkpoint(tmp_path, 12, state='{"global_st')  # killed while trainer_state.json was written
    _checkpoint(tmp_path, 14, skip="model.safetensors")
    _checkpoint(tmp_path, 16, state=json.dumps({"global_step": 8}))  # not this folder's state
    (tmp_path / "checkpoint-20").write_text("a file, not a checkpoint")
    assert last_checkpoint(tmp_path) == good
    dropped = drop_incomplete_checkpoints(tmp_path)
    assert sorted(p.name for p in dropped) == [
        "checkpoint-10",
        "checkpoint-12",
        "checkpoint-14",
        "checkpoint-16",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-2", "checkpoint-20", "checkpoint-4"]


def test_sharded_and_adapter_weights_count(tmp_path: Path) -> None:
    d = _checkpoint(tmp_path, 3, skip="model.safetensors")
    assert last_checkpoint(tmp_path) is None
    (d / "adapter_model.safetensors").write_text("x")
    assert last_checkpoint(tmp_path) == d
    (d / "adapter_model.safetensors").unlink()
    (d / "model-00001-of-00002.safetensors").write_text("x")
    assert last_checkpoint(tmp_path) == d


def test_discard_checkpoints_leaves_nothing(tmp_path: Path) -> None:
    _checkpoint(tmp_path / "checkpoints", 2)
    discard_checkpoints(tmp_path / "checkpoints")
    discard_checkpoints(tmp_path / "checkpoints")  # already gone: nothing to do
    assert list(tmp_path.iterdir()) == []


def test_clear_leftovers_removes_only_temporary_names(tmp_path: Path) -> None:
    leftovers = [
        ".metrics.json.k2j3h",
        ".run.json.abc",
        ".model.x8y",
        ".model.replaced-42",
        ".learning_curve.png.tmp.png",
        ".notebook.partial.ipynb",
        ".checkpoints-discarded-7",
    ]
    keep = [".ipynb_checkpoints", ".metricsX", "metrics.json", "notes.txt", ".hidden"]
    for name in leftovers + keep:
        (tmp_path / name).mkdir() if "model" in name or "checkpoints" in name else (
            tmp_path / name
        ).write_text("")
    assert clear_leftovers(tmp_path) == sorted(leftovers)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(keep)


def test_spec_changes_rows() -> None:
    old = {
        "name": "a",
        "train": {"lr": 0.0001, "epochs": 2.0},
        "eval": {"splits": ["dev", "test"]},
        "x": None,
    }
    new = {"name": "a", "train": {"lr": 0.001, "epochs": 2.0}, "eval": {"splits": ["test"]}, "y": 1}
    assert spec_changes(old, new) == [
        "train.lr: 0.0001 -> 0.001",
        'eval.splits: ["dev", "test"] -> ["test"]',
        "x: null -> (not set)",
        "y: (not set) -> 1",
    ]
    assert spec_changes(old, old) == []
    assert spec_changes({"k": 1}, {"k": True}) == ["k: 1 -> true"]


# ------------------------------------------------------------------------------------- Trainer wiring


def test_resumable_arguments_checkpoint_each_epoch_with_optimizer_state(tmp_path: Path) -> None:
    from seqlab_spec.training.train import training_arguments

    spec = load_spec(QUICKSTART, TINY)
    plain = training_arguments(spec, tmp_path, has_dev=False)
    assert (plain.save_strategy, plain.save_only_model) == ("no", True)
    resumable = training_arguments(spec, tmp_path, has_dev=False, resumable=True)
    assert (resumable.save_strategy, resumable.save_only_model, resumable.save_total_limit) == (
        "epoch",
        False,
        1,
    )
    assert not resumable.load_best_model_at_end
    best = training_arguments(spec, tmp_path, has_dev=True, resumable=True)
    assert (best.save_strategy, best.load_best_model_at_end, best.save_only_model) == ("epoch", True, False)


def test_epoch_order_depends_on_seed_and_epoch_only() -> None:
    from transformers.trainer_pt_utils import LengthGroupedSampler

    from seqlab_spec.training.train import EpochSeededOrder

    lengths = [3, 9, 4, 4, 12, 7, 5, 8, 6, 10, 2, 11] * 4
    sampler = LengthGroupedSampler(4, lengths=lengths)
    loader = SimpleNamespace(batch_sampler=SimpleNamespace(sampler=sampler))
    callback = EpochSeededOrder(seed=7)

    def order(epoch: float, global_seed: int) -> list[int]:
        torch.manual_seed(global_seed)  # whatever the global RNG holds when the epoch's order is drawn
        callback.on_epoch_begin(None, SimpleNamespace(epoch=epoch), None, train_dataloader=loader)
        return list(sampler)

    assert order(1.0, 0) == order(1.0, 123) == order(1.75, 5)  # resumed mid-epoch: the same order
    assert order(0.0, 0) != order(1.0, 0)
    assert sorted(order(2.0, 0)) == list(range(len(lengths)))


def test_checkpoint_every_n_steps() -> None:
    from transformers import TrainerControl

    from seqlab_spec.training.train import CheckpointEvery

    saves = []
    for step in range(1, 8):
        control = TrainerControl()
        CheckpointEvery(3).on_step_end(None, SimpleNamespace(global_step=step), control)
        saves.append(control.should_save)
    assert saves == [False, False, True, False, False, True, False]


class _Stop(Exception):
    pass


@pytest.fixture(scope="module")
def tiny_training():
    """A tiny BERT tagger on 24 bundled sentences: 3 steps an epoch, 2 epochs, checkpoints every 2 steps."""
    from transformers import BertConfig, BertForTokenClassification, TrainerCallback

    from seqlab_spec.models.registry import load_tokenizer, resolve
    from seqlab_spec.pipelines.common import prepare_data
    from seqlab_spec.training.train import build_trainer, set_seed, tagging_features

    spec = load_spec(
        QUICKSTART,
        [
            "data.limit.train=24",
            "data.limit.dev=8",
            "data.limit.test=8",
            "train.epochs=2",
            "train.batch_size=8",
            "train.max_length=32",
            "train.lr=1e-3",
            "train.logging_steps=1",
            "train.save_every_steps=2",
            "train.select_best=false",  # the last weights are compared, not an early best checkpoint
        ],
    )
    data = prepare_data(spec)
    tok = load_tokenizer(resolve("minilm-l6"))
    train = tagging_features(data.splits["train"], tok, data.labels, 32)
    dev = tagging_features(data.splits["dev"], tok, data.labels, 32)

    class StopAt(TrainerCallback):
        def __init__(self, step: int) -> None:
            self.step = step

        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == self.step:
                raise _Stop

    def make(out: Path, stop: int | None = None):
        set_seed(spec.train.seed)
        config = BertConfig(
            vocab_size=tok.vocab_size,
            hidden_size=16,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=32,
            num_labels=len(data.labels),
            hidden_dropout_prob=0.3,
        )
        trainer = build_trainer(
            spec, BertForTokenClassification(config), tok, train, dev, data.labels, out, resumable=True
        )
        if stop is not None:
            trainer.add_callback(StopAt(stop))
        return trainer

    return make


@pytest.fixture(scope="module")
def uninterrupted(tiny_training, tmp_path_factory):
    from seqlab_spec.training.train import train_resumable

    out = tmp_path_factory.mktemp("uninterrupted") / "checkpoints"
    trainer = tiny_training(out)
    train_resumable(trainer, out)
    assert not out.exists()
    return trainer


@pytest.mark.slow
@pytest.mark.parametrize(("stop", "resumed_from"), [(4, "checkpoint-3"), (5, "checkpoint-4")])
def test_resumed_training_equals_uninterrupted(
    tiny_training, uninterrupted, tmp_path, stop, resumed_from
) -> None:
    """Stopped after step 4 (last checkpoint: the end of epoch 1) or 5 (mid-epoch 2, where the batch order
    must not come from the global RNG): resumed, the weights and the log equal the uninterrupted run's."""
    from seqlab_spec.training.train import train_resumable

    out = tmp_path / "checkpoints"
    with pytest.raises(_Stop):
        train_resumable(tiny_training(out, stop=stop), out)
    assert [p.name for p in out.iterdir()] == [resumed_from]
    resumed = tiny_training(out)
    train_resumable(resumed, out)
    assert not out.exists()
    a, b = uninterrupted.model.state_dict(), resumed.model.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert without_timings(resumed.state.log_history, "train_loss") == without_timings(
        uninterrupted.state.log_history, "train_loss"
    )


# ------------------------------------------------------------------------------------- the command line


def _run_folder(tmp_path: Path, overrides: list[str], record: dict) -> Path:
    run_dir = tmp_path / "quickstart-20250101-000000"
    run_dir.mkdir()
    write_resolved_spec(run_dir, load_spec(QUICKSTART, overrides))
    write_json(run_dir / "run.json", record)
    return run_dir


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_changed_spec_is_refused_with_a_diff(tmp_path: Path, capsys) -> None:
    run_dir = _run_folder(
        tmp_path, TINY, {"status": "running", "pid": _dead_pid(), "host": socket.gethostname()}
    )
    assert main(["run", "--resume", str(run_dir), "--set", "train.lr=0.01", "--set", "train.seed=7"]) == 1
    assert capsys.readouterr().err == (
        f"error: {run_dir}: the spec differs from the one this run started with ({run_dir}/spec.yaml vs --set):\n"
        "  train.lr: 0.001 -> 0.01\n"
        "  train.seed: 42 -> 7\n"
        "resume with the run's own spec (leave out SPEC and --set), or pass --force to continue with the new "
        "values (the run then mixes both; run.json records the changes)\n"
    )
    # the spec file itself, without the run's --set values
    assert main(["run", str(QUICKSTART), "--resume", str(run_dir)]) == 1
    err = capsys.readouterr().err
    assert "  data.limit.train: 64 -> 3000\n  data.limit.dev: 24 -> null\n" in err
    assert f"({run_dir}/spec.yaml vs {QUICKSTART})" in err
    # --force accepts the changes: the new spec and the rows to record
    spec, rows = resume_spec(run_dir, None, ["train.lr=0.01"], force=True)
    assert spec.train.lr == 0.01 and rows == ["train.lr: 0.001 -> 0.01"]
    # the same values are no change
    spec, rows = resume_spec(run_dir, QUICKSTART, TINY)
    assert rows == [] and spec == load_spec(QUICKSTART, TINY)


def test_what_cannot_be_resumed(tmp_path: Path, capsys) -> None:
    assert main(["run", "--resume", str(tmp_path)]) == 1
    assert capsys.readouterr().err == (
        f"error: {tmp_path}: not a run folder (no spec.yaml); give the folder that `seqlab-spec run` printed "
        "as 'run folder: ...'\n"
    )
    done = _run_folder(tmp_path, TINY, {"status": "complete"})
    assert main(["run", "--resume", str(done)]) == 1
    assert capsys.readouterr().err == (
        f"error: {done}: this run finished (metrics.json is written); there is nothing to resume: start a new "
        "run with `seqlab-spec run SPEC`\n"
    )
    (done / "run.json").unlink()
    (done / "metrics.json").write_text("{}")  # a folder from before run.json: metrics and no checkpoints
    assert main(["run", "--resume", str(done)]) == 1
    assert "this run finished" in capsys.readouterr().err


def test_a_live_run_is_not_resumed_twice(tmp_path: Path, capsys) -> None:
    from seqlab_spec.runner.resume import check_resumable

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        run_dir = _run_folder(
            tmp_path, TINY, {"status": "running", "pid": sleeper.pid, "host": socket.gethostname()}
        )
        assert main(["run", "--resume", str(run_dir)]) == 1
        assert capsys.readouterr().err == (
            f"error: {run_dir}: the run is still going (process {sleeper.pid} on this machine); stop it first, "
            "or pass --force if that process is not this run\n"
        )
        assert check_resumable(run_dir, force=True)["pid"] == sleeper.pid
    finally:
        sleeper.kill()
        sleeper.wait()
    assert check_resumable(run_dir)["status"] == "running"  # its process is gone: resumable


def test_resume_flags_are_checked(tmp_path: Path, capsys) -> None:
    assert main(["run"]) == 1
    assert capsys.readouterr().err == (
        "error: give a SPEC to run (`seqlab-spec ls` lists the shipped ones), or --resume RUN_DIR\n"
    )
    assert main(["run", str(QUICKSTART), "--force"]) == 1
    assert capsys.readouterr().err == "error: --force only applies with --resume RUN_DIR\n"
    assert main(["run", "--resume", str(tmp_path), "--out", str(tmp_path)]) == 1
    assert (
        capsys.readouterr().err == "error: --out does not apply to --resume: the run continues in RUN_DIR\n"
    )


# ------------------------------------------------------------------------------------- killed, then resumed


@pytest.mark.slow
def test_killed_run_resumes_to_the_uninterrupted_result(tiny_run: Path, tmp_path: Path) -> None:
    """SIGKILL once a checkpoint exists, then `--resume`: metrics, predictions, weights and the training log
    equal those of the uninterrupted tiny run (same spec and seed; exact on CPU, no tolerance)."""
    sets = [a for s in [*TINY, "train.save_every_steps=2"] for a in ("--set", s)]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "seqlab_spec.cli",
            "run",
            str(QUICKSTART),
            "--no-notebook",
            "--out",
            str(tmp_path),
            *sets,
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    deadline = time.time() + 600
    killed_at = None
    while proc.poll() is None and time.time() < deadline:
        found = list(tmp_path.glob("quickstart-*/checkpoints"))
        if found and (killed_at := last_checkpoint(found[0])) is not None:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait()
    assert killed_at is not None, f"the run ended (exit {proc.returncode}) before a checkpoint was seen"
    (run_dir,) = tmp_path.iterdir()
    assert not (run_dir / "metrics.json").exists()
    assert json.loads((run_dir / "run.json").read_text())["status"] == "running"

    assert main(["run", "--resume", str(run_dir)]) == 0  # the way it started: --no-notebook (run.json)

    def read(folder: Path, name: str):
        return [json.loads(line) for line in (folder / name).read_text().splitlines()]

    def log(folder: Path) -> list[dict]:
        return without_timings(read(folder, "train_log.jsonl"), "train_loss")

    mine, ref = (
        json.loads((run_dir / "metrics.json").read_text()),
        json.loads((tiny_run / "metrics.json").read_text()),
    )
    assert mine["dev"] == ref["dev"] and mine["test"] == ref["test"]
    assert read(run_dir, "predictions.jsonl") == read(tiny_run, "predictions.jsonl")
    assert log(run_dir) == log(tiny_run)
    from safetensors.torch import load_file

    a, b = (
        load_file(run_dir / "model" / "model.safetensors"),
        load_file(tiny_run / "model" / "model.safetensors"),
    )
    assert a.keys() == b.keys() and all(a[k].equal(b[k]) for k in a)

    assert sorted(p.name for p in run_dir.iterdir()) == [
        "learning_curve.png",
        "metrics.json",
        "model",
        "predictions.jsonl",
        "run.json",
        "spec.yaml",
        "train_log.jsonl",
    ]
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "complete"
    first, second = record["attempts"]
    assert "ended" not in first and second["resumed"] is True and second["status"] == "complete"


def test_a_relative_run_folder_is_resumed_in_place(tiny_run: Path, tmp_path: Path, monkeypatch) -> None:
    """`run --resume runs/x` from the folder holding runs/: the run continues in runs/x, not under the notebook's
    folder, where papermill starts the kernel (a relative path handed to it would point there)."""
    from seqlab_spec.runner import execute

    run = tmp_path / "runs" / "x"
    shutil.copytree(tiny_run, run)
    (run / "metrics.json").unlink()
    record = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps(record | {"status": "interrupted", "notebook": True}))
    seen = {}
    monkeypatch.setattr(execute, "execute_run", lambda spec, run_dir, notebook, **kw: seen.setdefault("dir", run_dir))
    monkeypatch.chdir(tmp_path)
    execute.resume_run(Path("runs/x"))
    assert seen["dir"] == run.resolve() and seen["dir"].is_absolute()
