"""Triples -> relation tags on hand-built triples: the filters, the merge and the tie rule of the recipe."""

from __future__ import annotations

import pytest

from seqlab_spec.signals.oie import Triple
from seqlab_spec.signals.reltags import is_valid, merge, relation_tags_for, triple_bio

T = Triple


def tags(spec: str) -> list[str]:
    return [{"O": "O", "B": "B-REL", "I": "I-REL"}[t] for t in spec.split()]


@pytest.mark.parametrize(
    ("triple", "ok"),
    [
        (T((0,), (1,), (2,)), True),
        (T((0, 1), (2, 3, 4, 5, 6), (7,)), True),  # five relation words: kept
        (T((0,), (1, 2, 3, 4, 5, 6), (7,)), False),  # six: dropped
        (T((), (1,), (2,)), False),  # empty subject
        (T((0,), (), (2,)), False),  # empty relation
        (T((0,), (1,), ()), False),  # empty object
        (T((0,), (1, 3), (4,)), False),  # relation not contiguous
        (T((0, 2), (3,), (4,)), False),  # subject not contiguous
        (T((3,), (1,), (4,)), False),  # subject after relation
        (T((0,), (3,), (2,)), False),  # object before relation
        (T((0, 1), (1, 2), (3,)), False),  # slots overlap
        (T((0,), (1,), (8,)), False),  # object past the sentence
    ],
)
def test_is_valid(triple, ok):
    assert is_valid(triple, n_words=8) is ok


def test_triple_bio():
    assert triple_bio(T((0, 1), (2, 3), (5,)), 7) == ["B-SUB", "I-SUB", "B-REL", "I-REL", "O", "B-OBJ", "O"]


def test_single_triple_keeps_only_the_relation():
    assert relation_tags_for(6, [T((0,), (1, 2), (3, 4))]) == tags("O B I O O O")


def test_disjoint_triples_merge():
    triples = [T((0,), (1,), (2,)), T((4,), (5, 6), (7,))]
    assert relation_tags_for(9, triples) == tags("O B O O O B I O O")


def test_overlapping_triples_keep_the_longest():
    # shared subject: not mergeable; the second tags 1+2+3 = 6 words against 1+1+1 = 3
    triples = [T((0,), (1,), (2,)), T((0,), (3, 4), (5, 6, 7))]
    assert relation_tags_for(8, triples) == tags("O O O B I O O O")


def test_overlap_tie_keeps_the_first():
    triples = [T((0,), (1,), (2,)), T((0,), (3,), (4,))]
    assert relation_tags_for(5, triples) == tags("O B O O O")


def test_invalid_triples_are_dropped_before_merging():
    # the long-relation triple would overlap the first; it is filtered, so nothing blocks the merge
    triples = [T((0,), (1,), (2,)), T((0,), (1, 2, 3, 4, 5, 6), (7,)), T((4,), (5,), (6,))]
    assert relation_tags_for(8, triples) == tags("O B O O O B O O")


def test_identical_triples_count_once():
    triples = [T((0,), (1,), (2,)), T((0,), (1,), (2,)), T((4,), (5,), (6,))]
    assert relation_tags_for(7, triples) == tags("O B O O O B O")


def test_no_valid_triple_gives_all_o():
    assert relation_tags_for(4, []) == ["O"] * 4
    assert relation_tags_for(4, [T((0,), (1,), ())]) == ["O"] * 4


def test_merge_reference_semantics():
    a = ["B-SUB", "B-REL", "B-OBJ", "O", "O", "O"]
    b = ["O", "O", "O", "B-SUB", "B-REL", "B-OBJ"]
    c = ["B-SUB", "I-SUB", "B-REL", "B-OBJ", "I-OBJ", "O"]
    assert merge([a, b]) == ["B-SUB", "B-REL", "B-OBJ", "B-SUB", "B-REL", "B-OBJ"]
    assert merge([a, b, c]) == c  # c overlaps both: no merge, and c tags the most words
    assert merge([]) is None
