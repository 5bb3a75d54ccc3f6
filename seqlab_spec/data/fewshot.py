"""Seeded k-shot samples of a training split (data.few_shot): sample i draws with Random(seed + i)."""

from __future__ import annotations

import random
from collections.abc import Sequence

from ..errors import DataError
from .types import Sentence


def has_span(sentence: Sentence) -> bool:
    return any(t != "O" for t in sentence.tags)


def sample_k_shot(
    sentences: Sequence[Sentence], k: int, n: int = 1, require_span: bool = True, seed: int = 13
) -> list[list[Sentence]]:
    """n samples of k distinct sentences each, in corpus order; with `require_span` only sentences that
    hold a span are drawn (a k-shot sample of empty sentences teaches nothing)."""
    if k < 1 or n < 1:
        raise DataError(f"data.few_shot: k and n must be at least 1 (got k={k}, n={n})")
    pool = [i for i, s in enumerate(sentences) if not require_span or has_span(s)]
    if k > len(pool):
        what = "hold a span" if require_span else "are available"
        hint = ""
        if require_span and len(sentences) > len(pool):
            hint = " or set data.few_shot.require_span: false"
        raise DataError(
            f"data.few_shot.k: {k} sentences asked for, but only {len(pool)} of the {len(sentences)} "
            f"training sentences {what}; lower data.few_shot.k{hint}"
        )
    samples = []
    for i in range(n):
        picked = sorted(random.Random(seed + i).sample(pool, k))
        samples.append([sentences[j] for j in picked])
    return samples
