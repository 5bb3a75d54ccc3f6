"""Relation tags vs gold triggers: hand-computed span P/R/F1 (labels ignored) and token overlap."""

from __future__ import annotations

import pytest

from seqlab_spec.data.types import Sentence
from seqlab_spec.errors import DataError
from seqlab_spec.signals.overlap import format_overlap, overlap_by_domain, trigger_overlap

GOLD = [
    Sentence(list("abcdef"), ["O", "B-EVENT", "O", "O", "B-Attack", "I-Attack"]),
    Sentence(list("abc"), ["B-EVENT", "O", "O"]),
    Sentence(list("abc"), ["O", "O", "O"]),
]
REL = [
    ["O", "B-REL", "I-REL", "O", "B-REL", "I-REL"],  # (1,3) covers trigger 1 loosely; (4,6) matches exactly
    ["O", "O", "O"],
    ["O", "B-REL", "O"],  # a relation with no trigger
]


def test_hand_computed_figures():
    got = trigger_overlap(GOLD, REL)
    assert got == {
        "sentences": 3,
        "triggers": 3,
        "relations": 3,
        "span_precision": pytest.approx(1 / 3),
        "span_recall": pytest.approx(1 / 3),
        "span_f1": pytest.approx(1 / 3),
        "trigger_tokens_in_relation": 0.75,  # words 1, 4, 5 of 4 trigger words
        "relations_with_trigger": pytest.approx(2 / 3),
    }


def test_no_relations_gives_zeros():
    got = trigger_overlap(GOLD, [["O"] * len(s) for s in GOLD])
    assert (
        got["relations"],
        got["span_f1"],
        got["trigger_tokens_in_relation"],
        got["relations_with_trigger"],
    ) == (0, 0.0, 0.0, 0.0)


def test_by_domain_and_table():
    table = overlap_by_domain({"source": (GOLD, REL), "target": (GOLD[1:], REL[1:])})
    assert table["target"]["triggers"] == 1 and table["target"]["span_recall"] == 0.0
    assert format_overlap(table) == (
        "| domain | sentences | triggers | relations | span_precision | span_recall | span_f1 | "
        "trigger_tokens_in_relation | relations_with_trigger |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
        "| source | 3 | 3 | 3 | 0.333 | 0.333 | 0.333 | 0.750 | 0.667 |\n"
        "| target | 2 | 1 | 1 | 0.000 | 0.000 | 0.000 | 0.000 | 0.000 |"
    )


def test_length_mismatch_names_the_sentence():
    s = Sentence(["a", "b"], ["O", "O"], {"file": "x.json", "line": 7})
    with pytest.raises(DataError, match=r"^x.json:7: sentence 0 has 2 tags but 3 relation tags$"):
        trigger_overlap([s], [["O", "O", "O"]])
    with pytest.raises(DataError, match="1 sentences but 2 relation tag lists"):
        trigger_overlap([s], [["O", "O"], ["O"]])
