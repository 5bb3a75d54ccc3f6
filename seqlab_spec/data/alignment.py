"""Word labels <-> subword positions, from a tokenizer's `word_ids()` (None for special tokens).

Training labels only the first subword of each word (-100 elsewhere, ignored by the loss); prediction
reads each word's label from its first subword. A word with no subword (cut by max_length, or dropped
by the tokenizer) gets no prediction: None, which the caller counts as "O" and warns about.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

IGNORE = -100  # the label id torch's cross-entropy skips

T = TypeVar("T")


def first_subword_labels(word_ids: Sequence[int | None], label_ids: Sequence[int]) -> list[int]:
    """One label per subword position: the word's label on its first subword, -100 elsewhere."""
    out: list[int] = []
    seen: set[int] = set()
    for w in word_ids:
        if w is None or w in seen:
            out.append(IGNORE)
        else:
            seen.add(w)
            out.append(int(label_ids[w]))
    return out


def word_predictions(word_ids: Sequence[int | None], pred_ids: Sequence[T], n_words: int) -> list[T | None]:
    """One prediction per word (its first subword's); None for words that have no subword."""
    if len(pred_ids) != len(word_ids):
        raise ValueError(f"{len(pred_ids)} predictions for {len(word_ids)} subword positions")
    out: list[T | None] = [None] * n_words
    seen: set[int] = set()
    for w, pred in zip(word_ids, pred_ids, strict=True):
        if w is None or w in seen:
            continue
        if w >= n_words:
            raise ValueError(f"word id {w} out of range for {n_words} words")
        seen.add(w)
        out[w] = pred
    return out
