"""Few-shot sampling: seeded, distinct within a sample, span filter, exact error."""

from __future__ import annotations

import pytest

from seqlab_spec.data.fewshot import sample_k_shot
from seqlab_spec.data.types import Sentence
from seqlab_spec.errors import DataError

SENTS = [Sentence([f"w{i}"], ["B-X" if i % 3 == 0 else "O"]) for i in range(30)]  # 10 with a span


def ids(sample: list[Sentence]) -> list[int]:
    return [int(s.tokens[0][1:]) for s in sample]


def test_seeded_and_reproducible():
    a = sample_k_shot(SENTS, k=4, n=3, seed=7)
    b = sample_k_shot(SENTS, k=4, n=3, seed=7)
    assert [ids(s) for s in a] == [ids(s) for s in b]
    assert len(a) == 3 and all(len(s) == 4 for s in a)
    # sample i is drawn with seed + i: sample 1 of seed 7 is sample 0 of seed 8
    assert ids(a[1]) == ids(sample_k_shot(SENTS, k=4, n=1, seed=8)[0])
    assert len({tuple(ids(s)) for s in a}) > 1  # different samples


def test_without_replacement_in_corpus_order_and_span_filter():
    for sample in sample_k_shot(SENTS, k=10, n=5, seed=1):
        got = ids(sample)
        assert got == sorted(set(got)) and len(got) == 10
        assert all(i % 3 == 0 for i in got)  # require_span: only sentences with a span
    loose = sample_k_shot(SENTS, k=30, require_span=False)[0]
    assert ids(loose) == list(range(30))


def test_k_larger_than_eligible():
    with pytest.raises(DataError) as e:
        sample_k_shot(SENTS, k=11)
    assert str(e.value) == (
        "data.few_shot.k: 11 sentences asked for, but only 10 of the 30 training sentences hold a span; "
        "lower data.few_shot.k or set data.few_shot.require_span: false"
    )
    with pytest.raises(DataError) as e:
        sample_k_shot(SENTS, k=31, require_span=False)
    assert str(e.value) == (
        "data.few_shot.k: 31 sentences asked for, but only 30 of the 30 training sentences are available; "
        "lower data.few_shot.k"
    )
