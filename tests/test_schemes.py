"""Label schemes: exact conversions, repair counts, round trips, spans equal to seqeval's reader."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from seqeval.metrics.sequence_labeling import get_entities

from seqlab_spec.data.schemes import TagError, detect_scheme, from_bio, invalid_positions, spans, to_bio
from seqlab_spec.errors import DataError

TYPES = ["A", "B", "creative-work"]


@st.composite
def valid_bio(draw, max_len: int = 12) -> list[str]:
    """A valid BIO sequence: I-X only right after B-X or I-X."""
    n = draw(st.integers(0, max_len))
    out: list[str] = []
    for _ in range(n):
        choices = ["O"] + [f"B-{t}" for t in TYPES]
        if out and out[-1] != "O":
            choices.append("I-" + out[-1][2:])
        out.append(draw(st.sampled_from(choices)))
    return out


any_tags = st.lists(st.sampled_from(["O"] + [f"{p}-{t}" for p in "BI" for t in TYPES]), max_size=12)
any_iobes = st.lists(st.sampled_from(["O"] + [f"{p}-{t}" for p in "BIES" for t in TYPES]), max_size=12)


def test_bio_repairs_i_after_o_and_after_other_type():
    tags = ["I-A", "I-A", "O", "I-B", "B-A", "I-B", "I-B"]
    assert to_bio(tags, "bio") == (["B-A", "I-A", "O", "B-B", "B-A", "B-B", "I-B"], 3)
    assert invalid_positions(tags, "bio") == [0, 3, 5]


def test_valid_bio_is_unchanged_with_zero_repairs():
    tags = ["B-A", "I-A", "B-A", "O", "B-creative-work", "I-creative-work"]
    assert to_bio(tags, "bio") == (tags, 0)


def test_iob1_reads_i_as_span_start_without_counting_it():
    # IOB1: I- opens a span; B- only separates two adjacent spans of the same type
    assert to_bio(["I-A", "I-A", "B-A", "O", "I-B", "B-A"], "iob1") == (
        ["B-A", "I-A", "B-A", "O", "B-B", "B-A"],
        0,
    )


def test_iobes_conversion_and_invalid_positions():
    assert to_bio(["S-A", "B-B", "I-B", "E-B", "O", "S-A"], "iobes") == (
        ["B-A", "B-B", "I-B", "I-B", "O", "B-A"],
        0,
    )
    # B-A never closed (pos 0), E-A after O (pos 2), I-B continuing nothing and not closed (pos 4)
    tags = ["B-A", "O", "E-A", "O", "I-B", "O", "S-A", "E-A"]
    bio, n = to_bio(tags, "iobes")
    assert bio == ["B-A", "O", "B-A", "O", "B-B", "O", "B-A", "B-A"]
    assert invalid_positions(tags, "iobes") == [0, 2, 4, 7]
    assert n == 4


def test_from_bio_each_scheme():
    bio = ["B-A", "I-A", "B-A", "O", "B-B", "B-A", "I-A", "I-A"]
    assert from_bio(bio, "bio") == bio
    assert from_bio(bio, "iob1") == ["I-A", "I-A", "B-A", "O", "I-B", "I-A", "I-A", "I-A"]
    assert from_bio(bio, "iobes") == ["B-A", "E-A", "S-A", "O", "S-B", "B-A", "I-A", "E-A"]


def test_from_bio_reads_invalid_bio_first():
    assert from_bio(["O", "I-A", "I-A"], "iobes") == ["O", "B-A", "E-A"]


@settings(max_examples=300, deadline=None)
@given(valid_bio(), st.sampled_from(["bio", "iob1", "iobes"]))
def test_round_trip_from_valid_bio(bio, scheme):
    written = from_bio(bio, scheme)
    assert to_bio(written, scheme) == (bio, 0)
    assert from_bio(to_bio(written, scheme)[0], scheme) == written


@settings(max_examples=300, deadline=None)
@given(any_tags)
def test_spans_equal_seqeval_reader_on_any_bio_like_sequence(tags):
    expected = sorted((s, e + 1, t) for t, s, e in get_entities(tags))
    assert sorted(spans(tags)) == expected


@settings(max_examples=300, deadline=None)
@given(any_iobes)
def test_iobes_reading_equals_seqeval_reader(tags):
    bio, n = to_bio(tags, "iobes")
    assert sorted(spans(bio)) == sorted((s, e + 1, t) for t, s, e in get_entities(tags))
    assert n == len(invalid_positions(tags, "iobes"))


@settings(max_examples=200, deadline=None)
@given(any_tags)
def test_repair_is_idempotent_and_yields_valid_bio(tags):
    bio, _ = to_bio(tags, "bio")
    assert to_bio(bio, "bio") == (bio, 0)


def test_spans_exact():
    assert spans(["B-A", "I-A", "O", "I-B", "B-B", "B-creative-work", "I-creative-work"]) == [
        (0, 2, "A"),
        (3, 4, "B"),
        (4, 5, "B"),
        (5, 7, "creative-work"),
    ]
    assert spans([]) == []
    assert spans(["O", "O"]) == []


@pytest.mark.parametrize(
    ("tag", "scheme", "pos"),
    [
        ("S-A", "bio", 1),
        ("E-A", "iob1", 1),
        ("B", "bio", 1),
        ("PER", "iobes", 1),
        ("B-", "bio", 1),
        ("o", "bio", 1),
    ],
)
def test_unknown_tags_raise_with_position(tag, scheme, pos):
    with pytest.raises(TagError) as e:
        to_bio(["O", tag], scheme)
    assert e.value.position == pos
    assert isinstance(e.value, DataError)
    assert str(e.value).startswith(f"tag {tag!r} is not a {scheme} tag (expected O, B-TYPE, I-TYPE")


def test_unknown_scheme():
    with pytest.raises(DataError, match="task.scheme takes one of bio, iob1, iobes"):
        to_bio(["O"], "bilou")


def test_detect_scheme():
    assert detect_scheme([["B-A", "I-A", "O"], ["B-B"]]) == "bio"
    assert detect_scheme([["I-A", "I-A", "B-A", "O"], ["O", "I-B"]]) == "iob1"
    assert detect_scheme([["B-A", "E-A"], ["O"]]) == "iobes"
    assert detect_scheme([["S-A"]]) == "iobes"
    assert detect_scheme([["O", "O"]]) == "bio"
    # a BIO corpus with one annotation slip stays BIO
    assert detect_scheme([["B-A", "O", "B-A", "I-A", "O", "I-B", "B-B"]]) == "bio"
    # only single-word B- spans (LitBank events) is BIO
    assert detect_scheme([["O", "B-EVENT", "O", "B-EVENT"]]) == "bio"
