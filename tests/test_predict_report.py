"""`seqlab-spec predict` on a run folder and `seqlab-spec report` over runs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from seqlab_spec.errors import DataError
from seqlab_spec.predict_cli import parse_input, predict_file
from seqlab_spec.report import compare

pytestmark = pytest.mark.slow


def test_predict_equals_evaluation_predictions(tiny_run: Path) -> None:
    rows = [json.loads(line) for line in (tiny_run / "predictions.jsonl").read_text().splitlines()]
    test_rows = [r for r in rows if r["split"] == "test"]
    text = "".join(json.dumps({"tokens": r["tokens"]}) + "\n" for r in test_rows)
    out = predict_file(tiny_run, text, "input.jsonl")
    assert [o["labels"] for o in out] == [r["pred"] for r in test_rows]
    for o in out:
        for s in o["spans"]:
            assert s["text"] == " ".join(o["tokens"][s["start"] : s["end"]])


def test_predict_cli_on_raw_text(tiny_run: Path, tmp_path: Path) -> None:
    src = tmp_path / "raw.txt"
    src.write_text("She ran to the station and waited.\n\nThey laughed.\n")
    res = subprocess.run(
        [sys.executable, "-m", "seqlab_spec.cli", "predict", str(tiny_run), "--input", str(src)],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert [r["tokens"] for r in rows] == [
        ["She", "ran", "to", "the", "station", "and", "waited", "."], ["They", "laughed", "."]
    ]
    assert all(len(r["labels"]) == len(r["tokens"]) for r in rows)


def test_parse_input_errors_name_the_line() -> None:
    with pytest.raises(DataError) as e:
        parse_input('{"tokens": ["a"]}\n{"tokens": \n', "in.jsonl")
    assert str(e.value) == "in.jsonl:2: invalid JSON (Expecting value at column 12); fix the line"
    with pytest.raises(DataError, match="empty input"):
        parse_input("\n\n", "in.txt")


def _fake_seed_copy(run: Path, dest: Path, seed: int, f1: float) -> Path:
    """A copy of a real run folder that differs only by train.seed and its F1 (to test the aggregation)."""
    shutil.copytree(run, dest, ignore=shutil.ignore_patterns("model"))
    spec = yaml.safe_load((dest / "spec.yaml").read_text())
    spec["train"]["seed"] = seed
    (dest / "spec.yaml").write_text(yaml.safe_dump(spec))
    metrics = json.loads((dest / "metrics.json").read_text())
    for split in ("dev", "test"):
        metrics[split]["micro"]["f1"] = f1
    (dest / "metrics.json").write_text(json.dumps(metrics))
    return dest


def test_report_averages_runs_that_differ_only_by_seed(tiny_run: Path, tmp_path: Path) -> None:
    a = _fake_seed_copy(tiny_run, tmp_path / "a", 1, 0.5)
    b = _fake_seed_copy(tiny_run, tmp_path / "b", 2, 0.7)
    table, bars = compare([a, b])
    assert "0.6000 ± 0.1414" in table and "| a, b |" in table
    assert bars == [(bars[0][0], pytest.approx(0.6), pytest.approx(0.6))]
    c = _fake_seed_copy(tiny_run, tmp_path / "c", 3, 0.9)
    spec = yaml.safe_load((c / "spec.yaml").read_text())
    spec["train"]["lr"] = 0.5
    (c / "spec.yaml").write_text(yaml.safe_dump(spec))
    table, bars = compare([a, b, c])
    assert len(bars) == 2 and "lr=0.5" in table and "0.9000" in table
