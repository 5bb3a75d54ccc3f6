"""Response formats: rendering gold spans, and parsing model output back to word spans (never raising)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_sift_helpers import CORPUS, EU, LABELS, sent

from seqlab_spec.data.schemes import spans as bio_spans
from seqlab_spec.sift.formats import COUNT_KEYS, parse, render, spans_to_bio

NY = sent("New York and New Jersey sued New York City .", "B-LOC I-LOC O B-LOC I-LOC O B-LOC I-LOC I-LOC O")
EU_TOKENS = EU.tokens


def counts(**nonzero: int) -> dict[str, int]:
    return dict.fromkeys(COUNT_KEYS, 0) | nonzero


def test_render_lines_inline_and_none() -> None:
    assert render(EU) == "EU :: ORG\nGerman :: MISC\nBritish :: MISC"
    assert render(EU, "inline") == "[EU|ORG] rejects [German|MISC] call to boycott [British|MISC] lamb ."
    empty = sent("He said the lamb was safe .", "O O O O O O O")
    assert render(empty) == "none"
    assert render(empty, none_word="NONE") == "NONE"
    assert render(empty, "inline") == "He said the lamb was safe ."
    assert render(NY, "inline") == "[New York|LOC] and [New Jersey|LOC] sued [New York City|LOC] ."


@pytest.mark.parametrize("fmt", ["lines", "inline"])
def test_parse_inverts_render(fmt: str) -> None:
    for s in [*CORPUS, NY]:
        result = parse(render(s, fmt), s.tokens, fmt, LABELS)  # type: ignore[arg-type]
        assert result.spans == bio_spans(s.tags), s.tokens
        assert result.counts == counts(spans=len(result.spans))


def test_repeated_line_and_second_occurrence() -> None:
    r = parse("EU :: ORG\nEU :: ORG", EU_TOKENS, "lines", LABELS)
    assert r.spans == [(0, 1, "ORG")]
    assert r.counts == counts(spans=1, repeated=1)
    # a word that occurs twice: the second line takes the next unused occurrence, left to right
    tokens = "EU and EU".split()
    r = parse("EU :: ORG\nEU :: LOC", tokens, "lines", LABELS)
    assert r.spans == [(0, 1, "ORG"), (2, 3, "LOC")]
    assert r.counts == counts(spans=2)


def test_unknown_label_not_in_sentence_malformed_overlapping() -> None:
    text = "\n".join(
        [
            "EU :: COMPANY",  # unknown label
            "EU :: org",  # labels are exact
            "Paris :: LOC",  # not in the sentence
            "German call :: MISC",  # placed
            "British",  # no separator
            ":: ORG",  # no words
            "lamb ::",  # no label
            "call :: MISC",  # only occurrence inside "German call"
            "",  # blank lines are skipped
        ]
    )
    r = parse(text, EU_TOKENS, "lines", LABELS)
    assert r.spans == [(2, 4, "MISC")]
    assert r.counts == counts(spans=1, unknown_label=2, not_in_sentence=1, malformed=3, overlapping=1)


def test_whitespace_is_normalised_and_words_match_exactly() -> None:
    r = parse("   EU    rejects  ::   ORG  \n\tbritish :: MISC", EU_TOKENS, "lines", LABELS)
    assert r.spans == [(0, 2, "ORG")]
    assert r.counts == counts(spans=1, not_in_sentence=1)  # word match is case-sensitive


def test_none_word_and_empty_output() -> None:
    for text in ["none", " None \n", "", "\n\n"]:
        r = parse(text, EU_TOKENS, "lines", LABELS)
        assert r.spans == [] and r.counts == counts(), text
    r = parse("nichts", EU_TOKENS, "lines", LABELS, none_word="nichts")
    assert r.spans == [] and r.counts == counts()
    r = parse("none", EU_TOKENS, "lines", LABELS, none_word="nichts")
    assert r.counts == counts(malformed=1)


def test_parse_inline_errors() -> None:
    text = (
        "[EU|ORG] rejects [German|FOO] call [to] boycott [Paris|LOC] [British|MISC] [lamb|MISC] "
        "[lamb|MISC] [. |ORG"  # the last one never closed (cut by max_new_tokens)
    )
    r = parse(text, EU_TOKENS, "inline", LABELS)
    assert r.spans == [(0, 1, "ORG"), (6, 7, "MISC"), (7, 8, "MISC")]
    assert r.counts == counts(spans=3, unknown_label=1, malformed=2, not_in_sentence=1, repeated=1)


def test_inline_bracket_words_of_the_sentence_are_not_malformed() -> None:
    tokens = "he said [ sic ] Paris".split()
    r = parse("he said [ sic ] [Paris|LOC]", tokens, "inline", LABELS)
    assert r.spans == [(5, 6, "LOC")]
    assert r.counts == counts(spans=1)


def test_spans_to_bio() -> None:
    assert spans_to_bio([(6, 9, "LOC"), (0, 2, "LOC")], 10) == [
        "B-LOC", "I-LOC", "O", "O", "O", "O", "B-LOC", "I-LOC", "I-LOC", "O"
    ]
    assert spans_to_bio([], 2) == ["O", "O"]
    with pytest.raises(ValueError, match="overlaps"):
        spans_to_bio([(0, 2, "LOC"), (1, 3, "PER")], 4)
    with pytest.raises(ValueError, match="outside a sentence of 2 words"):
        spans_to_bio([(1, 3, "PER")], 2)


pieces = st.sampled_from(
    ["EU", "German", "British", "::", "|", "[", "]", "ORG", "MISC", "XX", "none", "\n", " ", "é"]
)


@settings(max_examples=150, deadline=None)
@given(text=st.one_of(st.text(max_size=60), st.lists(pieces, max_size=30).map("".join)),
       fmt=st.sampled_from(["lines", "inline"]))
def test_parse_never_raises_and_returns_valid_spans(text: str, fmt: str) -> None:
    r = parse(text, EU_TOKENS, fmt, LABELS)  # type: ignore[arg-type]
    assert set(r.counts) == set(COUNT_KEYS)
    assert r.counts["spans"] == len(r.spans)
    assert all(v >= 0 for v in r.counts.values())
    for s, e, label in r.spans:
        assert 0 <= s < e <= len(EU_TOKENS) and label in LABELS
    assert len(spans_to_bio(r.spans, len(EU_TOKENS))) == len(EU_TOKENS)  # no overlaps


SAW = sent("She saw no Indians now ; she saw flour-mills .", "O O O O O O O B-EVENT B-EVENT O")


def test_repeated_word_keeps_its_position() -> None:
    """Gold on the second `saw` only: inline carries the position, lines names the occurrence."""
    assert render(SAW) == "saw :: EVENT #2\nflour-mills :: EVENT"
    assert render(SAW, "inline") == "She saw no Indians now ; she [saw|EVENT] [flour-mills|EVENT] ."
    for fmt in ("lines", "inline"):
        r = parse(render(SAW, fmt), SAW.tokens, fmt, ["EVENT"])  # type: ignore[arg-type]
        assert r.spans == [(7, 8, "EVENT"), (8, 9, "EVENT")] and r.counts == counts(spans=2)
    # both `saw`: the i-th line with the same words is their i-th occurrence, no mark needed
    both = sent("She saw no Indians now ; she saw flour-mills .", "O B-EVENT O O O O O B-EVENT O O")
    assert render(both) == "saw :: EVENT\nsaw :: EVENT"
    assert parse(render(both), both.tokens, "lines", ["EVENT"]).spans == [(1, 2, "EVENT"), (7, 8, "EVENT")]


def test_lines_occurrence_marks() -> None:
    tokens = "EU and EU and EU".split()
    r = parse("EU :: ORG #3\nEU :: LOC #1", tokens, "lines", LABELS)
    assert r.spans == [(0, 1, "LOC"), (4, 5, "ORG")] and r.counts == counts(spans=2)
    # an unmarked line goes on after the previous line with the same words
    r = parse("EU :: ORG #2\nEU :: LOC", tokens, "lines", LABELS)
    assert r.spans == [(2, 3, "ORG"), (4, 5, "LOC")]
    r = parse("EU :: ORG #4\nEU :: ORG #1\nEU :: ORG #1\nEU :: XX #2\nand :: ORG #x", tokens, "lines", LABELS)
    assert r.spans == [(0, 1, "ORG")]
    assert r.counts == counts(spans=1, not_in_sentence=1, repeated=1, unknown_label=2)


def test_inline_span_sits_at_its_bracket() -> None:
    tokens = "EU and EU".split()
    assert parse("EU and [EU|ORG]", tokens, "inline", LABELS).spans == [(2, 3, "ORG")]
    # a miscopied sentence (a word dropped): the nearest free occurrence to the bracket's position
    assert parse("EU [EU|ORG]", tokens, "inline", LABELS).spans == [(0, 1, "ORG")]
    assert parse("EU and and [EU|ORG]", tokens, "inline", LABELS).spans == [(2, 3, "ORG")]


def _corpus_files() -> list[tuple[str, object]]:
    """(id, path) of every bundled corpus file, and of every one under ${SEQLAB_DATA} when it is set."""
    import os
    from pathlib import Path

    from seqlab_spec.datasets import DATASETS_DIR

    roots = [DATASETS_DIR]
    data = os.environ.get("SEQLAB_DATA")
    if data and Path(data).is_dir():
        roots.append(Path(data))
    files = [
        p for root in roots for p in sorted(root.glob("*/*"))
        if p.is_file() and p.suffix not in {".md", ".ids", ".py", ".pyc"}
    ]
    params = [pytest.param(p, id=f"{p.parent.parent.name}/{p.parent.name}/{p.name}") for p in files]
    if not data:
        skip = pytest.mark.skip(reason="SEQLAB_DATA is not set: the corpora under it are not checked")
        params.append(pytest.param(None, marks=skip, id="SEQLAB_DATA"))
    return params


@pytest.mark.parametrize("path", _corpus_files())
def test_gold_round_trip_is_exact_on_every_corpus(path) -> None:
    """Rendering the gold and parsing it back: span F1 exactly 1.0, no rejection, in both formats."""
    from seqlab_spec.data.readers import read_conll

    sentences = read_conll(path, separator="tab" if path.suffix == ".tsv" else "whitespace")
    labels = sorted({t[2:] for s in sentences for t in s.tags if t != "O"})
    for fmt in ("lines", "inline"):
        tp = n_gold = n_pred = 0
        for s in sentences:
            gold = set(bio_spans(s.tags))
            r = parse(render(s, fmt), s.tokens, fmt, labels)  # type: ignore[arg-type]
            assert r.counts == counts(spans=len(r.spans)), (fmt, s.meta)
            tp, n_gold, n_pred = tp + len(gold & set(r.spans)), n_gold + len(gold), n_pred + len(r.spans)
        assert n_gold > 0
        assert 2 * tp / (n_gold + n_pred) == 1.0, fmt
