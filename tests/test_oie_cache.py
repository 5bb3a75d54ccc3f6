"""relation_tags: the cache (no re-parse on a re-run, new key when input/rules change) and `source: file`."""

from __future__ import annotations

import json

import pytest

from seqlab_spec.data.types import Sentence
from seqlab_spec.errors import DataError, SpecError
from seqlab_spec.signals import cache, oie, relation_tags
from seqlab_spec.spec.signal import SignalSpec

SENTS = [
    Sentence("The city was destroyed by the army .".split(), ["O"] * 8),
    Sentence("He is a doctor .".split(), ["O"] * 5),
]
EXPECTED = [["O", "O", "B-REL", "I-REL", "I-REL", "O", "O", "O"], ["O", "B-REL", "O", "O", "O"]]


@pytest.fixture(scope="module", autouse=True)
def _pipeline():
    oie.load_pipeline()  # ~2 s, once


@pytest.fixture()
def spy(monkeypatch, tmp_path):
    """SEQLAB_CACHE in a temp folder; count calls of the extractor."""
    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path / "cache"))
    calls: list[int] = []
    real = oie.extract

    def counting(sentences, **kw):
        calls.append(len(sentences))
        return real(sentences, **kw)

    monkeypatch.setattr(oie, "extract", counting)
    return calls


def test_second_call_reads_the_cache(spy, tmp_path):
    spec = SignalSpec(name="oie")
    assert relation_tags(SENTS, spec) == EXPECTED
    assert spy == [2]
    files = list((tmp_path / "cache" / "oie").glob("*.jsonl"))
    assert len(files) == 1
    rows = [json.loads(x) for x in files[0].read_text().splitlines()]
    assert rows == [{"tokens": s.tokens, "tags": t} for s, t in zip(SENTS, EXPECTED, strict=True)]
    assert relation_tags(SENTS, spec) == EXPECTED
    assert spy == [2]  # not parsed again


def test_key_changes_with_tokens_and_version(spy, monkeypatch):
    spec = SignalSpec(name="oie")
    relation_tags(SENTS, spec)
    relation_tags(SENTS[:1], spec)  # different input: parsed
    assert spy == [2, 1]
    monkeypatch.setattr(oie, "EXTRACTOR_VERSION", "test-bump")
    relation_tags(SENTS, spec)  # new rules: parsed again
    assert spy == [2, 1, 2]


def test_cache_key_is_a_content_hash():
    k = cache.cache_key([["a", "b"], ["c"]], "p", "1")
    assert k == cache.cache_key([["a", "b"], ["c"]], "p", "1")
    assert k != cache.cache_key([["a"], ["b", "c"]], "p", "1")  # same words, other sentence split
    assert k != cache.cache_key([["a", "b"], ["c"]], "p", "2")
    assert k != cache.cache_key([["a", "b"], ["c"]], "q", "1")


def test_corrupt_cache_entry_is_recomputed(spy, tmp_path):
    spec = SignalSpec(name="oie")
    relation_tags(SENTS, spec)
    (entry,) = (tmp_path / "cache" / "oie").glob("*.jsonl")
    entry.write_text('{"tokens": ["x"], "tags": ["O"]}\n')
    assert relation_tags(SENTS, spec) == EXPECTED
    assert spy == [2, 2]


def test_cache_dir_default_and_override(monkeypatch, tmp_path):
    monkeypatch.delenv("SEQLAB_CACHE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache.cache_dir() == tmp_path / ".cache" / "seqlab_spec" / "oie"
    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path / "elsewhere"))
    assert cache.cache_dir() == tmp_path / "elsewhere" / "oie"


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return SignalSpec(name="oie", source="file", path=str(path))


def test_file_source_line_aligned(tmp_path, monkeypatch):
    monkeypatch.setattr(oie, "extract", lambda *a, **k: pytest.fail("a file source must not parse"))
    spec = _write(
        tmp_path / "t.jsonl", [{"tokens": s.tokens, "tags": t} for s, t in zip(SENTS, EXPECTED, strict=True)]
    )
    assert relation_tags(SENTS, spec) == EXPECTED


def test_file_source_looked_up_by_tokens(tmp_path):
    # one file for several splits: extra lines and another order are fine
    rows = [
        {"tokens": ["Other", "text"], "tags": ["O", "O"]},
        {"tokens": SENTS[1].tokens, "tags": EXPECTED[1]},
        {"tokens": SENTS[0].tokens, "tags": EXPECTED[0]},
    ]
    spec = _write(tmp_path / "t.jsonl", rows)
    assert relation_tags(SENTS, spec) == EXPECTED
    assert relation_tags(SENTS[1:], spec) == EXPECTED[1:]


def test_file_source_token_mismatch_names_the_line(tmp_path):
    rows = [
        {"tokens": SENTS[0].tokens, "tags": EXPECTED[0]},
        {"tokens": ["He", "was", "a", "doctor", "."], "tags": ["O"] * 5},
    ]
    p = tmp_path / "t.jsonl"
    spec = _write(p, rows)
    with pytest.raises(DataError) as e:
        relation_tags(SENTS, spec)
    assert str(e.value) == (
        f"{p}:2: tokens differ from sentence 1 of the data (5 vs 5 tokens; file: 'He was a doctor .', "
        "data: 'He is a doctor .'); regenerate the file from the data's own tokenization "
        "(one {tokens, tags} line per sentence)"
    )


def test_file_source_sentence_missing(tmp_path):
    p = tmp_path / "t.jsonl"
    spec = _write(p, [{"tokens": SENTS[0].tokens, "tags": EXPECTED[0]}])
    with pytest.raises(DataError) as e:
        relation_tags(SENTS, spec)
    assert str(e.value) == (
        f"{p}: no line holds the tokens of sentence 1 of the data ('He is a doctor .'; the file has 1 lines "
        "for 2 sentences); regenerate the file from the data's own tokenization (one {tokens, tags} line per "
        "sentence)"
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"tokens": ["a", "b"], "tags": ["O"]}', "2 tokens but 1 tags; give one tag per token"),
        (
            '{"tokens": ["a"], "tags": ["B-V"]}',
            "tag 'B-V' is not one of O, B-REL, I-REL; map the OIE system's "
            "relation words to B-REL/I-REL and the rest to O",
        ),
        ('{"tokens": ["a"]}', 'expected an object {"tokens": [...], "tags": [...]}'),
        ('{"tokens": ["a"], "tags": [1]}', "'tags' must be a list of strings"),
        (
            '{"tokens": ["a"], ',
            "invalid JSON (Expecting property name enclosed in double quotes at column 19); fix the line",
        ),
    ],
)
def test_file_source_bad_line(tmp_path, line, message):
    p = tmp_path / "t.jsonl"
    p.write_text('{"tokens": ["ok"], "tags": ["O"]}\n\n' + line + "\n")
    with pytest.raises(DataError) as e:
        relation_tags(SENTS, SignalSpec(name="oie", source="file", path=str(p)))
    assert str(e.value) == f"{p}:3: {message}"


def test_file_source_needs_a_path():
    with pytest.raises(SpecError, match=r"signal.path: `source: file` needs the JSONL"):
        relation_tags(SENTS, SignalSpec(name="oie", source="file"))


def test_signal_none_is_refused():
    with pytest.raises(
        SpecError, match=r"signal.name: 'none' asks for no relation tags; set signal.name: oie"
    ):
        relation_tags(SENTS, SignalSpec(name="none"))
