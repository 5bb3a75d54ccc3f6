"""ACE 2005 (processed JSON) and MAVEN (JSONL) readers: exact tags on hand-made fixtures; file:line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seqlab_spec.data.events import read_ace, read_maven
from seqlab_spec.errors import DataError

FIX = Path(__file__).parent / "fixtures"
ACE = FIX / "ace_small.json"
MAVEN = FIX / "maven_small.jsonl"


def test_ace_event_labels():
    sents = read_ace(ACE)
    assert [s.tokens[:3] for s in sents] == [
        ["Rebels", "attacked", "the"],
        ["The", "weather", "stayed"],
        ["The", "mayor", "was"],
        ["Two", "workers", "died"],
    ]
    assert [s.tags for s in sents] == [
        ["O", "B-EVENT", "O", "O", "O", "O", "O", "O"],
        ["O"] * 7,
        ["O", "O", "O", "B-EVENT", "I-EVENT", "O", "O", "B-EVENT", "O", "O", "O"],  # end is exclusive
        ["O", "O", "B-EVENT", "O", "O", "B-EVENT", "O"],
    ]
    assert [s.meta["line"] for s in sents] == [2, 16, 22, 31]  # where each item starts
    assert sents[2].meta == {"file": str(ACE), "line": 22, "format": "ace", "index": 2}


def test_ace_type_labels():
    sents = read_ace(ACE, label="type")
    assert sents[2].tags[3:5] == ["B-Personnel:Start-Position", "I-Personnel:Start-Position"]
    assert sents[3].tags == ["O", "O", "B-Life:Die", "O", "O", "B-Conflict:Attack", "O"]


def test_maven_event_and_type_labels():
    sents = read_maven(MAVEN)
    assert len(sents) == 4
    assert sents[0].tags == ["O", "O", "B-EVENT", "O", "B-EVENT", "I-EVENT", "O", "O", "O"]
    assert sents[1].tags == ["O", "O", "O", "B-EVENT", "O", "O", "O"]  # negative trigger "boat" stays O
    assert sents[2].tags == ["O"] * 7
    assert sents[3].tags == ["O", "B-EVENT", "O", "O", "B-EVENT", "O", "O", "B-EVENT", "O"]
    assert sents[3].meta == {
        "file": str(MAVEN),
        "line": 2,
        "format": "maven",
        "doc_id": "doc-b",
        "sent_id": 1,
    }
    typed = read_maven(MAVEN, label="type")
    assert typed[0].tags[2:6] == ["B-Arranging", "O", "B-Social_event", "I-Social_event"]


def _ace(tmp_path, items, text=None) -> Path:
    p = tmp_path / "ace.json"
    p.write_text(text if text is not None else json.dumps(items, indent=2))
    return p


def _item(words, *mentions):
    return {
        "words": words,
        "golden-event-mentions": [
            {"trigger": {"start": s, "end": e, "text": " ".join(words[s:e])}, "event_type": t}
            for s, e, t in mentions
        ],
    }


def test_ace_errors_name_file_and_line(tmp_path):
    p = _ace(tmp_path, None, '[\n  {"words": ["a"]},\n  {"words": ["b"] oops}\n]')
    with pytest.raises(DataError, match=r"ace.json:3: invalid JSON \(Expecting ',' delimiter at column 19\)"):
        read_ace(p)
    p = _ace(tmp_path, None, '{"words": ["a"]}')
    with pytest.raises(DataError, match=r"ace.json: expected a JSON list of sentences"):
        read_ace(p)
    p = _ace(tmp_path, [_item(["a", "b"]), {"tokens": ["x"]}])
    with pytest.raises(DataError) as e:
        read_ace(p)
    assert str(e.value) == f'{p}:9: sentence 1 must be an object with "words" and "golden-event-mentions"'


@pytest.mark.parametrize(
    ("trigger", "message"),
    [
        (
            {"start": 1, "end": 3},
            "[1, 3) is not a span of the 2 words (0 <= start < end <= words; end is exclusive)",
        ),
        (
            {"start": 1, "end": 1},
            "[1, 1) is not a span of the 2 words (0 <= start < end <= words; end is exclusive)",
        ),
        ({"start": "0", "end": 1}, "must be two integers [start, end), found ['0', 1]"),
    ],
)
def test_ace_bad_trigger(tmp_path, trigger, message):
    p = _ace(
        tmp_path, [{"words": ["a", "b"], "golden-event-mentions": [{"trigger": trigger, "event_type": "X"}]}]
    )
    with pytest.raises(DataError) as e:
        read_ace(p)
    assert str(e.value) == f"{p}:2: sentence 0: golden-event-mentions[0].trigger {message}"


def test_ace_overlaps(tmp_path):
    words = ["a", "b", "c", "d"]
    p = _ace(tmp_path, [_item(words, (1, 2, "Life:Die"), (1, 2, "Conflict:Attack"), (0, 2, "X"))])
    # as events: the repeated span is one trigger; (0, 2) clashes with it
    with pytest.warns(UserWarning, match=r"1 overlapping trigger\(s\)"):
        (s,) = read_ace(p)
    assert s.tags == ["O", "B-EVENT", "O", "O"] and s.meta["overlaps_dropped"] == 1
    with pytest.warns(UserWarning, match=r"2 overlapping trigger\(s\)"):
        (s,) = read_ace(p, label="type")
    assert s.tags == ["O", "B-Life:Die", "O", "O"] and s.meta["overlaps_dropped"] == 2


def test_ace_shorter_span_inside_a_longer_one_is_not_the_same_span(tmp_path):
    p = _ace(tmp_path, [_item(["a", "b", "c"], (0, 2, "X"), (0, 1, "X"))])
    with pytest.warns(UserWarning):
        (s,) = read_ace(p)
    assert s.tags == ["B-EVENT", "I-EVENT", "O"] and s.meta["overlaps_dropped"] == 1


def _maven(tmp_path, *lines) -> Path:
    p = tmp_path / "maven.jsonl"
    p.write_text("\n".join(lines) + "\n")
    return p


def _doc(events, **extra):
    return json.dumps(
        {"id": "d", "content": [{"sentence": "a b", "tokens": ["a", "b"]}], "events": events, **extra}
    )


def test_maven_errors_name_file_and_line(tmp_path):
    good = _doc([])
    p = _maven(tmp_path, good, "", "{bad")
    with pytest.raises(DataError, match=r"maven.jsonl:3: invalid JSON"):
        read_maven(p)
    test_split = json.dumps({"id": "t1", "content": [{"tokens": ["a"]}], "candidates": []})
    p = _maven(tmp_path, good, test_split)
    with pytest.raises(DataError) as e:
        read_maven(p)
    assert str(e.value) == (
        f"{p}:2: document 't1' has no \"events\" (the MAVEN test split hides its labels: "
        "evaluate on valid.jsonl instead)"
    )
    p = _maven(tmp_path, _doc([{"type": "X", "mention": [{"sent_id": 1, "offset": [0, 1]}]}]))
    with pytest.raises(DataError) as e:
        read_maven(p)
    assert (
        str(e.value)
        == f"{p}:1: events[0].mention[0].sent_id 1 is not one of the document's 1 sentences (0-based)"
    )
    p = _maven(tmp_path, _doc([{"type": "X", "mention": [{"sent_id": 0, "offset": [1, 3]}]}]))
    with pytest.raises(DataError) as e:
        read_maven(p)
    assert str(e.value) == (
        f"{p}:1: events[0].mention[0].offset [1, 3) is not a span of the 2 words "
        "(0 <= start < end <= words; end is exclusive)"
    )
    p = _maven(tmp_path, json.dumps({"id": "d", "content": [{"tokens": []}], "events": []}))
    with pytest.raises(
        DataError, match=r"maven.jsonl:1: content\[0\].tokens must be a non-empty list of strings"
    ):
        read_maven(p)


def test_bad_label_and_empty_file(tmp_path):
    with pytest.raises(DataError, match="label 'kind' is not one of event, type"):
        read_maven(MAVEN, label="kind")
    p = _maven(tmp_path, "")
    with pytest.raises(DataError, match="the file is empty"):
        read_maven(p)
