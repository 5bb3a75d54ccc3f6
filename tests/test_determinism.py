"""The same spec and seed give the same run on the same CPU: metrics, predictions, training log and weights
equal bit for bit; the run folder records the versions and the spec's hash (metrics.json "meta" and run.json)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from conftest import ROOT, TINY, without_timings

from seqlab_spec.runner.execute import run_spec
from seqlab_spec.spec.load import load_spec


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.slow
@pytest.mark.skipif(
    __import__("torch").cuda.is_available(), reason="CUDA kernels need extra settings to be bitwise deterministic"
)
def test_two_runs_of_one_spec_are_identical(tiny_run: Path, tmp_path: Path) -> None:
    spec = load_spec(ROOT / "specs" / "quickstart.yaml", TINY)
    (again,) = run_spec(spec, tmp_path, use_notebook=False)
    assert again != tiny_run

    a, b = (json.loads((d / "metrics.json").read_text()) for d in (tiny_run, again))
    assert a["dev"] == b["dev"] and a["test"] == b["test"]
    assert _jsonl(tiny_run / "predictions.jsonl") == _jsonl(again / "predictions.jsonl")
    assert without_timings(_jsonl(tiny_run / "train_log.jsonl")) == without_timings(_jsonl(again / "train_log.jsonl"))
    from safetensors.torch import load_file

    wa, wb = (load_file(d / "model" / "model.safetensors") for d in (tiny_run, again))
    assert wa.keys() == wb.keys() and all(wa[k].equal(wb[k]) for k in wa)

    # what the run ran with: versions, device and the spec's hash, the same in metrics.json and run.json
    meta = b["meta"]
    assert {k: v for k, v in a["meta"].items() if k != "wall_seconds"} == {
        k: v for k, v in meta.items() if k != "wall_seconds"
    }
    import peft
    import torch
    import transformers

    from seqlab_spec import __version__

    versions = {
        "seqlab_spec": __version__,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "peft": peft.__version__,
    }
    assert {k: meta[k] for k in versions} == versions
    assert meta["spec_sha256"] == hashlib.sha256(spec.model_dump_json().encode()).hexdigest()
    record = json.loads((again / "run.json").read_text())
    assert record["status"] == "complete" and record["name"] == "quickstart" and record["notebook"] is False
    assert record["spec_sha256"] == meta["spec_sha256"] and record["device"] == meta["device"]
    assert {k: record["versions"][k] for k in versions} == versions
    assert record["versions"]["python"] == meta["python"]
    (attempt,) = record["attempts"]
    assert attempt["status"] == "complete" and attempt["ended"] >= attempt["started"]
