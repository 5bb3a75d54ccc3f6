"""End to end: the quickstart spec through papermill and through the library give the same run folder."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from conftest import ROOT, TINY

from seqlab_spec.data.schemes import to_bio
from seqlab_spec.evaluation.scores import READINGS, strict_spans
from seqlab_spec.runner.execute import run_spec
from seqlab_spec.runner.rundir import RUN_FILES
from seqlab_spec.spec.load import load_spec

pytestmark = pytest.mark.slow


def _predictions(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / RUN_FILES["predictions"]).read_text().splitlines()]


def test_library_run_writes_the_whole_run_folder(tiny_run: Path) -> None:
    names = {p.name for p in tiny_run.iterdir()}
    assert {"spec.yaml", "metrics.json", "predictions.jsonl", "train_log.jsonl", "learning_curve.png", "model"} <= names
    assert "checkpoints" not in names
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    assert set(metrics) == {"dev", "test", "scoring", "meta"}
    assert metrics["scoring"] == {"headline": "strict", **READINGS}
    assert metrics["dev"]["n_sentences"] == 24 and metrics["test"]["n_sentences"] == 24
    for split in ("dev", "test"):
        assert metrics[split]["headline"] == "strict" and {"strict", "conlleval"} <= set(metrics[split])
    assert metrics["meta"]["torch"] and len(metrics["meta"]["spec_sha256"]) == 64
    rows = _predictions(tiny_run)
    assert len(rows) == 48 and all(len(r["tokens"]) == len(r["gold"]) == len(r["pred"]) for r in rows)
    log = [json.loads(line) for line in (tiny_run / "train_log.jsonl").read_text().splitlines()]
    assert any("loss" in r for r in log) and any("eval_f1" in r for r in log)


def test_rescoring_predictions_with_seqeval_gives_the_headline(tiny_run: Path) -> None:
    """The README's three lines: the run folder alone reproduces both readings with seqeval."""
    from seqeval.metrics import f1_score
    from seqeval.scheme import IOB2

    metrics = json.loads((tiny_run / "metrics.json").read_text())
    rows = _predictions(tiny_run)
    for split in ("dev", "test"):
        r = [x for x in rows if x["split"] == split]
        gold, pred = [x["gold"] for x in r], [x["pred"] for x in r]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert f1_score(gold, pred, mode="strict", scheme=IOB2) == metrics[split]["strict"]["micro"]["f1"]
            assert f1_score(gold, pred) == metrics[split]["conlleval"]["micro"]["f1"]
            assert f1_score(gold, [x["pred_conlleval"] for x in r], mode="strict", scheme=IOB2) == f1_score(gold, pred)
        assert [x["pred_conlleval"] for x in r] == [to_bio(p)[0] for p in pred]
        assert [x["spans"] for x in r] == [[list(s) for s in strict_spans(p)] for p in pred]


def test_saved_model_loads_with_plain_transformers(tiny_run: Path) -> None:
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    model = AutoModelForTokenClassification.from_pretrained(tiny_run / "model")
    tok = AutoTokenizer.from_pretrained(tiny_run / "model")
    assert model.config.id2label[0] == "O" and "B-EVENT" in model.config.label2id
    assert model(**tok("He walked home .", return_tensors="pt")).logits.shape[-1] == 3


def test_notebook_run_equals_library_run(tiny_run: Path, tmp_path: Path) -> None:
    spec = load_spec(ROOT / "specs" / "quickstart.yaml", TINY)
    (nb_run,) = run_spec(spec, tmp_path, use_notebook=True)
    assert (nb_run / RUN_FILES["notebook"]).exists()
    lib = json.loads((tiny_run / "metrics.json").read_text())
    nb = json.loads((nb_run / "metrics.json").read_text())
    for split in ("dev", "test"):
        assert nb[split] == lib[split]
    assert _predictions(nb_run) == _predictions(tiny_run)
    # the same training happened: the saved weights are identical
    from safetensors.torch import load_file

    a = load_file(tiny_run / "model" / "model.safetensors")
    b = load_file(nb_run / "model" / "model.safetensors")
    assert a.keys() == b.keys() and all(a[k].equal(b[k]) for k in a)


def test_a_run_never_overwrites_a_folder(tmp_path: Path) -> None:
    from seqlab_spec.runner.rundir import create_run_dir

    a = create_run_dir(tmp_path, "x")
    (a / "metrics.json").write_text("{}")
    b = create_run_dir(tmp_path, "x")
    assert a != b and (a / "metrics.json").read_text() == "{}"


def test_run_folder_path_is_absolute_for_a_relative_out_dir(tmp_path: Path, monkeypatch) -> None:
    """The notebook kernel runs in notebooks/: a relative run folder would land there."""
    from seqlab_spec.runner.rundir import create_run_dir

    monkeypatch.chdir(tmp_path)
    run = create_run_dir("runs", "x")
    assert run.is_absolute() and run.parent == tmp_path / "runs"
