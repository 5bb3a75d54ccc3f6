"""Shared fixtures: data paths and one tiny trained run reused by the runner, predict and report tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# The licensed corpora (CoNLL-2003, CoNLL-2000, TempEval-3) are not in a clone: tests that read them run only
# where SEQLAB_DATA names their folder (CI sets it) and skip, saying so, elsewhere.
needs_data = pytest.mark.skipif(
    not os.environ.get("SEQLAB_DATA"),
    reason="reads licensed corpora: set SEQLAB_DATA to the folder holding them (README, 'Using it')",
)


def spec_env() -> dict[str, str]:
    """The environment for loading a shipped spec whose data files are not opened (validation only): a
    placeholder SEQLAB_DATA where it is unset, since reading a spec never reads its data."""
    return {**os.environ, "SEQLAB_DATA": os.environ.get("SEQLAB_DATA") or "/SEQLAB_DATA-unset"}

# Tiny, fast settings for end-to-end runs of the quickstart spec (bundled LitBank events).
TINY = [
    "data.limit.train=64",
    "data.limit.dev=24",
    "data.limit.test=24",
    "train.max_steps=6",
    "train.batch_size=16",
    "train.lr=1e-3",
    "train.max_length=64",
    "train.logging_steps=2",
]

# The wall-clock figures of a Trainer log: the only entries two equal trainings do not share.
RUNTIME_KEYS = {
    "train_runtime",
    "train_samples_per_second",
    "train_steps_per_second",
    "eval_runtime",
    "eval_samples_per_second",
    "eval_steps_per_second",
}


def without_timings(rows: list[dict], *also: str) -> list[dict]:
    """A training log without its wall-clock figures (and the keys in `also`), for exact comparisons."""
    drop = RUNTIME_KEYS | set(also)
    return [{k: v for k, v in r.items() if k not in drop} for r in rows]


@pytest.fixture(scope="session", autouse=True)
def _isolated_env(tmp_path_factory):
    """Never read or write the user's caches from tests; keep the converted-weights cache across tests."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    yield


@pytest.fixture(autouse=True)
def _process_state_restored():
    """Each test leaves the process as it found it: environment variables (a leaked OMP_NUM_THREADS=1 gives
    every later subprocess one thread, hence other float sums than this process) and torch's thread count."""
    import torch

    env, threads = dict(os.environ), torch.get_num_threads()
    yield
    if os.environ != env:
        os.environ.clear()
        os.environ.update(env)
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """One quickstart run through the library (--no-notebook path) with tiny settings."""
    from seqlab_spec.runner.execute import run_spec
    from seqlab_spec.spec.load import load_spec

    out = tmp_path_factory.mktemp("runs")
    spec = load_spec(ROOT / "specs" / "quickstart.yaml", TINY)
    (run_dir,) = run_spec(spec, out, use_notebook=False)
    return run_dir
