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
from seqlab_spec.evaluation.predict_file import parse_input, predict_file
from seqlab_spec.runner.report import compare

pytestmark = pytest.mark.slow


def test_predict_equals_evaluation_predictions(tiny_run: Path) -> None:
    rows = [json.loads(line) for line in (tiny_run / "predictions.jsonl").read_text().splitlines()]
    test_rows = [r for r in rows if r["split"] == "test"]
    text = "".join(json.dumps({"tokens": r["tokens"]}) + "\n" for r in test_rows)
    out = predict_file(tiny_run, text, "input.jsonl")
    # predict writes labels as the conlleval reading repairs them; the run folder keeps the raw tags as well
    assert [o["labels"] for o in out] == [r["pred_conlleval"] for r in test_rows]
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


def test_raw_text_opening_with_a_brace_is_told_why_it_was_read_as_jsonl() -> None:
    with pytest.raises(DataError) as e:
        parse_input("{Hello} there , he said .\n", "in.txt")
    assert str(e.value) == (
        "in.txt:1: invalid JSON (Expecting property name enclosed in double quotes at column 2); a first line that "
        "starts with '{' makes the file JSONL: fix the line, or for raw text start it with something else"
    )
    assert parse_input("Hello {there} .\n", "in.txt") == [["Hello", "{", "there", "}", "."]]


def _fake_seed_copy(run: Path, dest: Path, seed: int, f1: float, **settings: object) -> Path:
    """A copy of a real run folder that differs by train.seed, its headline F1 and the given dotted settings."""
    shutil.copytree(run, dest, ignore=shutil.ignore_patterns("model"))
    spec = yaml.safe_load((dest / "spec.yaml").read_text())
    spec["train"]["seed"] = seed
    for key, value in settings.items():
        *path, last = key.split(".")
        node = spec
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    (dest / "spec.yaml").write_text(yaml.safe_dump(spec))
    metrics = json.loads((dest / "metrics.json").read_text())
    for split in ("dev", "test"):
        metrics[split][metrics[split]["headline"]]["micro"]["f1"] = f1
    (dest / "metrics.json").write_text(json.dumps(metrics))
    return dest


def test_report_averages_runs_that_differ_only_by_seed(tiny_run: Path, tmp_path: Path) -> None:
    a = _fake_seed_copy(tiny_run, tmp_path / "a", 1, 0.5)
    b = _fake_seed_copy(tiny_run, tmp_path / "b", 2, 0.7)
    table, bars = compare([a, b])
    assert "| a, b | strict | 0.6000 ± 0.1414 | 0.6000 ± 0.1414 |" in table
    assert "Span micro F1 in each run's headline reading (eval.mode): strict = seqeval mode='strict'" in table
    assert bars == [(bars[0][0], pytest.approx(0.6), pytest.approx(0.6))]
    c = _fake_seed_copy(tiny_run, tmp_path / "c", 3, 0.9, **{"train.lr": 0.5})
    table, bars = compare([a, b, c])
    assert len(bars) == 2 and "| train.lr=0.5 |" in table and "0.9000" in table


def test_report_names_settings_by_their_full_keys(tiny_run: Path, tmp_path: Path) -> None:
    """data.limit.train and data.train are two settings: the table says which is which."""
    a = _fake_seed_copy(tiny_run, tmp_path / "a", 1, 0.5, **{"data.limit.train": 40, "data.train": "x.tsv"})
    b = _fake_seed_copy(tiny_run, tmp_path / "b", 1, 0.6, **{"data.limit.train": 50, "data.train": "y.tsv"})
    table, _ = compare([a, b])
    assert "| data.limit.train=40, data.train=x.tsv |" in table
    assert "| data.limit.train=50, data.train=y.tsv |" in table


def test_report_shows_no_spread_for_repeats_of_one_seed(tiny_run: Path, tmp_path: Path) -> None:
    a = _fake_seed_copy(tiny_run, tmp_path / "a", 7, 0.5)
    b = _fake_seed_copy(tiny_run, tmp_path / "b", 7, 0.5)
    table, _ = compare([a, b])
    assert "| a, b | strict | 0.5000 | 0.5000 |" in table and "±" not in table.splitlines()[2]
    c = _fake_seed_copy(tiny_run, tmp_path / "c", 7, 0.6)
    table, _ = compare([a, b, c])
    assert "| a, b, c | strict | 0.5333 (range 0.5000–0.6000) |" in table


def test_report_names_the_reading_of_each_run(tiny_run: Path, tmp_path: Path) -> None:
    a = _fake_seed_copy(tiny_run, tmp_path / "a", 1, 0.5)
    old = _fake_seed_copy(tiny_run, tmp_path / "old", 1, 0.5)
    metrics = json.loads((old / "metrics.json").read_text())
    for split in ("dev", "test"):  # a run folder written when metrics held the conlleval reading alone
        metrics[split] = {**metrics[split]["conlleval"], "truncated_words": 0}
        metrics[split]["micro"]["f1"] = 0.4
    (old / "metrics.json").write_text(json.dumps(metrics))
    table, _ = compare([a, old])
    assert "| a | strict | 0.5000 | 0.5000 |" in table and "| old | conlleval | 0.4000 | 0.4000 |" in table
    assert "conlleval = seqeval's default mode" in table


def test_report_and_predict_name_the_line_of_a_run_spec_that_does_not_validate(tiny_run: Path, tmp_path: Path,
                                                                                capsys) -> None:
    """A copied run folder whose spec.yaml was edited by hand (or names a method this process has not
    registered): one error naming spec.yaml:line, exit 1, as `run --resume` reads it; no traceback."""
    from seqlab_spec import cli

    run = tmp_path / "edited"
    shutil.copytree(tiny_run, run)
    spec_file = run / "spec.yaml"
    lines = spec_file.read_text().splitlines()
    (i,) = [i for i, line in enumerate(lines) if line.startswith("  lr:")]
    lines[i] = "  lr: -1.0"
    spec_file.write_text("\n".join(lines) + "\n")
    words = tmp_path / "words.txt"
    words.write_text("She ran home .\n")
    for argv in (["report", str(run), str(tiny_run)], ["predict", str(run), "--input", str(words)]):
        assert cli.main(argv) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: ") and f"{spec_file}:{i + 1}" in err and "train.lr" in err, err
        assert "Traceback" not in err
