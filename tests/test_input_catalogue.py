"""The catalogue of bad input files (tests/fixtures/bad_input/, one or more per kind of fault): each goes through
`run`'s preflight and/or `predict`'s reader, as it applies, and gives its one-line error or its correct reading.

Kinds: line ends (lone CR, mixed, BOM), control characters (NUL, VT, DEL, U+2028), column counts, empty and
whitespace-only words, `O` as a span type, bad bytes and JSON, empty input; invisible words read correctly.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, TINY

from seqlab_spec.cli import main
from seqlab_spec.data.load import load_splits
from seqlab_spec.errors import DataError
from seqlab_spec.evaluation.predict_file import parse_input, read_input
from seqlab_spec.runner.preflight import preflight
from seqlab_spec.spec.load import load_spec

F = ROOT / "tests" / "fixtures" / "bad_input"
QUICKSTART = ROOT / "specs" / "quickstart.yaml"
EMPTY = (
    "word 2 of the sentence is empty; a tokenizer gives it no subword of its own (a byte-level BPE would hand its "
    "bare space to the next word): remove it from the sentence, with its tag"
)
O_TYPE = (
    "names a span type called O, almost surely a conversion mistake (an IO -> BIO converter that prefixed the "
    "outside tag); write O for words outside spans"
)
CONTROL = "which is not text (a stray line end or tab means the line was split wrongly): fix the line"
WORD_SPACE = (
    "if a word holds a space, separate the columns by tabs and set data.columns.separator: tab; else fix the line"
)

# file -> the sentences training reads, or its one error line ({p}: the file's path)
RUN = {
    "cr_line_ends.tsv": [
        (["Ana", "went", "to", "Lima"], ["B-PER", "O", "O", "B-LOC"]),
        (["She", "stayed"], ["O", "O"]),
        (["It", "rained", "in", "May"], ["O", "O", "O", "O"]),
    ],
    "mixed_line_ends.tsv": [
        (["Ana", "went", "to", "Lima"], ["B-PER", "O", "O", "B-LOC"]),
        (["She", "stayed"], ["O", "O"]),
    ],
    "bom.tsv": [(["Ana", "went"], ["B-PER", "O"])],
    "tag_trailing_tab.tsv": [(["Ana", "went"], ["B-PER", "O"])],
    "invisible_words.jsonl": [
        (["Ana", "\u200b", "went", "\u200d", "\ufe0f", "\u00ad", "home"], ["B-PER", "O", "O", "O", "O", "O", "O"])
    ],
    "nul_byte.tsv": "{p}:2: word 2 'we\\x00nt' holds the control character U+0000 (NUL), " + CONTROL,
    "cr_inside_tag.tsv": "{p}:2: tag 'O\\x0b' holds the control character U+000B (VT), which is not text: fix the line",
    "del_char.jsonl": "{p}:1: word 2 '\\x7f' holds the control character U+007F (DEL), " + CONTROL,
    "line_separator_in_word.jsonl": "{p}:1: word 2 'we\\u2028nt' holds the control character U+2028 "
    "(LINE SEPARATOR), " + CONTROL,
    "non_utf8.tsv": "{p}:3: byte 0xe3 at column 2 is not valid utf-8; set data.encoding to the file's encoding "
    "(e.g. latin-1) or re-save the file as utf-8",
    "word_with_space.txt": "{p}:3: 3 columns, but 3 of the file's lines have 2; " + WORD_SPACE,
    "short_line.tsv": "{p}:2: expected at least 2 columns, found 1; fix the line or set data.columns",
    "empty_token.jsonl": "{p}:2: " + EMPTY,
    "empty_token.tsv": "{p}:2: " + EMPTY,
    "space_token.jsonl": "{p}:1: word 2 of the sentence is whitespace only (' ')"
    + EMPTY[len("word 2 of the sentence is empty"):],
    "nbsp_token.tsv": "{p}:2: word 2 of the sentence is whitespace only ('\\xa0')"
    + EMPTY[len("word 2 of the sentence is empty"):],
    "b_o_tags.tsv": "{p}:2: tag 'B-O' " + O_TYPE,
    "s_o_tags.tsv": "{p}:2: tag 'S-O' " + O_TYPE,
    "empty.txt": "{p}: the file is empty; fix data.train in the spec or fill the file",
    # the event readers share the same rules (MAVEN: one document a line; ACE: a JSON list, here with CR LF)
    "maven_cr_line_ends.jsonl": [
        (["Ana", "arrived", "late"], ["O", "B-EVENT", "O"]),
        (["Bo", "left", "."], ["O", "B-EVENT", "O"]),
    ],
    "maven_control_char.jsonl": "{p}:1: content[0]: word 2 'arr\\x85ived' holds the control character U+0085 (NEL), "
    + CONTROL,
    "ace_empty_word.json": "{p}:19: sentence 1: " + EMPTY,
}

# file -> the word lists predict reads, or its one error line
PREDICT = {
    "bom.jsonl": [["Ana", "went", "to", "Lima", ":"]],  # JSON, not raw text: no `":"` tokens of JSON syntax
    "bom.txt": [["Ana", "went", "to", "Lima", "."]],  # the BOM is not part of the first word
    "cr_line_ends.txt": [["Ana", "went", "to", "Lima", "."], ["She", "stayed", "."], ["It", "rained", "."]],
    "invisible_words.jsonl": [["Ana", "\u200b", "went", "\u200d", "\ufe0f", "\u00ad", "home"]],
    "bad_json.jsonl": "{p}:2: invalid JSON (Expecting value at column 20); fix the line",
    "control_char.txt": "{p}:1: the line holds the control character U+0000 (NUL); remove it",
    "empty.txt": "{p}: no sentences (empty input)",
    "non_utf8.txt": "{p}:1: byte 0xe3 at column 14 is not valid utf-8; re-save the file as utf-8",
    "empty_token.jsonl": RUN["empty_token.jsonl"],
    "space_token.jsonl": RUN["space_token.jsonl"],
    "del_char.jsonl": RUN["del_char.jsonl"],
    "line_separator_in_word.jsonl": RUN["line_separator_in_word.jsonl"],
    "cr_line_ends.tsv": "{p}: every line holds a tab: a column (CoNLL) file? predict takes JSONL "
    '({{"tokens": [...]}} a line) or raw text, one sentence a line',
    "missing.jsonl": "{p}: file not found; fix --input",
}


def test_the_catalogue_is_complete():
    on_disk = {p.name for p in F.iterdir() if not p.name.startswith(".")}
    assert on_disk == (set(RUN) | set(PREDICT)) - {"missing.jsonl"}


def _spec(name: str):
    p = F / name
    sets = [*TINY, f"data.train={p}", "data.dev=null", "data.test=null", "eval.splits=[]"]
    fmt = "ace" if name.startswith("ace") else "maven" if name.startswith("maven") else None
    sets.append(f"data.format={fmt or ('jsonl' if p.suffix == '.jsonl' else 'conll')}")
    if p.suffix == ".txt":
        sets.append("data.columns.separator=whitespace")
    if name.startswith("s_o"):
        sets.append("task.scheme=iobes")
    return load_spec(QUICKSTART, sets)


@pytest.mark.parametrize("name", list(RUN))
def test_run_preflight(name, caplog):
    spec, want = _spec(name), RUN[name]
    if isinstance(want, str):
        with pytest.raises(DataError) as e:
            preflight([spec])
        assert str(e.value) == want.format(p=F / name)
    else:
        with caplog.at_level(logging.WARNING, logger="seqlab_spec"):
            preflight([spec])
        assert [(s.tokens, s.tags) for s in load_splits(spec)["train"]] == want


@pytest.mark.parametrize("name", list(PREDICT))
def test_predict_reader(name):
    p, want = F / name, PREDICT[name]
    if isinstance(want, str):
        with pytest.raises(DataError) as e:
            parse_input(read_input(str(p)), str(p))
        assert str(e.value) == want.format(p=p)
    else:
        assert parse_input(read_input(str(p)), str(p)) == want


@pytest.mark.slow
def test_predict_command_one_error_line_and_what_it_could_not_see(tiny_run: Path, tmp_path: Path, capsys, caplog):
    for name, want in PREDICT.items():
        if not isinstance(want, str):
            continue
        assert main(["predict", str(tiny_run), "--input", str(F / name)]) == 1
        assert capsys.readouterr().err == f"error: {want.format(p=F / name)}\n"
    # a BOM before JSONL: read as JSON, so JSON punctuation is never a word to label
    out = tmp_path / "out.jsonl"
    assert main(["predict", str(tiny_run), "--input", str(F / "bom.jsonl"), "--output", str(out)]) == 0
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["tokens"] == ["Ana", "went", "to", "Lima", ":"] and len(row["labels"]) == 5
    assert (row["truncated_words"], row["no_subword_words"]) == (0, 0)
    # longer than train.max_length (64): per-row counts and one warning on stderr; invisible words apart
    long = tmp_path / "long.jsonl"
    long.write_text(
        json.dumps({"tokens": ["word"] * 80}) + "\n" + (F / "invisible_words.jsonl").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING, logger="seqlab_spec"):
        assert main(["predict", str(tiny_run), "--input", str(long), "--output", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["truncated_words"], r["no_subword_words"]) for r in rows] == [(18, 0), (0, 4)]
    assert rows[0]["labels"][62:] == ["O"] * 18 and rows[1]["labels"][1] == "O"
    assert [r.getMessage() for r in caplog.records] == [
        f"{long}: 18 words in 1 sentences lie beyond train.max_length=64 subwords; they are predicted O (see "
        "truncated_words per row; split long sentences)",
        f"{long}: 4 words have no subword for this tokenizer; predicted O (see no_subword_words per row)",
    ]


@pytest.mark.slow
def test_predict_bad_input_as_a_subprocess_has_no_traceback(tiny_run: Path):
    for name in ("non_utf8.txt", "missing.jsonl"):
        proc = subprocess.run(
            [sys.executable, "-m", "seqlab_spec.cli", "predict", str(tiny_run), "--input", str(F / name)],
            capture_output=True, text=True, cwd=ROOT, timeout=300,
        )
        assert proc.returncode == 1 and proc.stderr == f"error: {PREDICT[name].format(p=F / name)}\n"


def test_invisible_words_are_counted_apart_from_truncation_in_evaluation(tmp_path, caplog):
    """Words with no subword at max_length 512: their own count and message, not `truncated_words`."""
    from seqlab_spec.data.labels import LabelSet
    from seqlab_spec.data.readers import read_jsonl
    from seqlab_spec.models.tiny import save_tiny_encoder
    from seqlab_spec.pipelines.common import Prepared
    from seqlab_spec.pipelines.tagger import build_model, evaluate

    model_dir = save_tiny_encoder(tmp_path / "bert")
    spec = load_spec(QUICKSTART, [*TINY, f"model.name={model_dir}", "train.max_length=512", "eval.splits=[dev]"])
    data = Prepared({"dev": read_jsonl(F / "invisible_words.jsonl")}, LabelSet(["PER"]))
    model, tokenizer = build_model(spec, data.labels)
    with caplog.at_level(logging.WARNING, logger="seqlab_spec"):
        metrics, rows = evaluate(spec, model, tokenizer, data)
    assert (metrics["dev"]["truncated_words"], metrics["dev"]["no_subword_words"]) == (0, 4)
    assert [r.getMessage() for r in caplog.records] == [
        "dev: 4 words have no subword for this tokenizer (zero-width or invisible characters only); scored as O, "
        "their labels are not trained"
    ]
    assert [rows[0]["pred"][i] for i in (1, 3, 4, 5)] == ["O"] * 4


def test_o_is_not_a_span_type_in_task_labels():
    from seqlab_spec.errors import SpecError

    with pytest.raises(SpecError) as e:
        load_spec(QUICKSTART, ["task.labels=[O, EVENT]"])
    assert e.value.rows == [
        "--set task.labels=[O, EVENT]  task.labels  'O' is not a span type: list types without B-/I- and without O "
        "(e.g. [PER, LOC])"
    ]
