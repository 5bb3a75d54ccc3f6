"""Span scores in two readings of the predicted tags, each equal to seqeval (by construction and by test).

READINGS names them; `eval.mode` picks the headline, default the thesis's:

* "strict": seqeval `mode="strict", scheme=IOB2` on the raw predicted tags (the thesis's metric). An I-X that
  continues no X span opens nothing: its words count as outside, so the span it meant is missed.
* "conlleval": seqeval's default mode (conlleval's reading): a tag that continues no span (I-X after O, I-X
  after B-Y) opens one.

On valid BIO both readings agree. Spans come from seqeval's own readers (`Entities` with IOB2, and the
conlleval reader that `data.schemes.spans` implements and the tests hold equal to `get_entities`).

`span_scores` (one reading) returns {"micro": {precision, recall, f1}, "macro": {...}, "per_label": {type:
{precision, recall, f1, support}}, "token_accuracy", "n_sentences", "n_tokens", "n_gold", "n_pred",
"n_correct"}: plain Python numbers, JSON-ready. `split_scores` holds both readings and the headline's name;
`headline` reads it back. Zero division gives 0.0 as in seqeval; one deliberate difference: with no span type
in gold or prediction the macro averages are 0.0 where seqeval returns nan (nan does not survive
metrics.json). Token accuracy: strict compares the raw tags (seqeval's `accuracy_score`), conlleval the tags as
it reads them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..data.schemes import TagError, spans, to_bio
from ..errors import DataError

READINGS = {
    "strict": "seqeval mode='strict', scheme=IOB2 on the raw predicted tags (the thesis's metric): "
    "an I-X that continues no X span opens none",
    "conlleval": "seqeval's default mode (conlleval): an I-X that continues no X span opens one",
}
MODES = tuple(READINGS)


def strict_spans(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """Word spans (start, end exclusive, type) as seqeval's strict IOB2 reader finds them in raw BIO tags."""
    from seqeval.scheme import IOB2, Tokens

    return [(e.start, e.end, e.tag) for e in Tokens(list(tags), IOB2).entities]


def read_spans(tags: Sequence[str], mode: str) -> list[tuple[int, int, str]]:
    """The spans `mode` ("strict" or "conlleval") reads in one BIO tag sequence."""
    if mode == "strict":
        return strict_spans(tags)
    if mode == "conlleval":
        return spans(tags)
    raise ValueError(f"unknown reading {mode!r}; one of {', '.join(MODES)}")


def _prf(tp: int, n_pred: int, n_gold: int) -> tuple[float, float, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2.0 * p * r / (p + r) if p + r else 0.0  # seqeval's order of operations: equal to the last bit
    return p, r, f


def _check(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> None:
    if len(gold) != len(pred):
        raise DataError(f"{plural(len(gold), 'gold sentence')} but {len(pred)} predicted; score the same sentences")
    for i, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if len(g) != len(p):
            raise DataError(f"sentence {i}: {len(g)} gold tags but {len(p)} predicted; one tag per word")
        try:
            to_bio(g, "bio"), to_bio(p, "bio")
        except TagError as e:
            raise DataError(f"sentence {i}: {e}") from None


def span_scores(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], mode: str = "strict") -> dict[str, Any]:
    """Scores of predicted against gold BIO tag sequences (one list per sentence) in one reading."""
    _check(gold, pred)
    n_gold: Counter[str] = Counter()
    n_pred: Counter[str] = Counter()
    n_tp: Counter[str] = Counter()
    tokens = correct_tokens = 0
    for g, p in zip(gold, pred, strict=True):
        gs, ps = set(read_spans(g, mode)), set(read_spans(p, mode))
        n_gold.update(t for _, _, t in gs)
        n_pred.update(t for _, _, t in ps)
        n_tp.update(t for _, _, t in gs & ps)
        if mode == "conlleval":
            g, p = to_bio(g, "bio")[0], to_bio(p, "bio")[0]
        tokens += len(g)
        correct_tokens += sum(a == b for a, b in zip(g, p, strict=True))
    per_label: dict[str, dict[str, float | int]] = {}
    for t in sorted(set(n_gold) | set(n_pred)):
        p_, r_, f_ = _prf(n_tp[t], n_pred[t], n_gold[t])
        per_label[t] = {"precision": p_, "recall": r_, "f1": f_, "support": n_gold[t]}
    tp, npred, ngold = sum(n_tp.values()), sum(n_pred.values()), sum(n_gold.values())
    p, r, f = _prf(tp, npred, ngold)

    def macro(key: str) -> float:
        vals = [v[key] for v in per_label.values()]
        return float(np.mean(vals)) if vals else 0.0  # numpy's summation, as seqeval's np.average

    return {
        "micro": {"precision": p, "recall": r, "f1": f},
        "macro": {"precision": macro("precision"), "recall": macro("recall"), "f1": macro("f1")},
        "per_label": per_label,
        "token_accuracy": correct_tokens / tokens if tokens else 0.0,
        "n_sentences": len(gold),
        "n_tokens": tokens,
        "n_gold": ngold,
        "n_pred": npred,
        "n_correct": tp,
    }


def split_scores(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], headline: str) -> dict[str, Any]:
    """Both readings of one split: {"headline": mode, "strict": {...}, "conlleval": {...}, "n_sentences",
    "n_tokens"} (each reading as `span_scores` returns it)."""
    if headline not in READINGS:
        raise ValueError(f"eval.mode: unknown reading {headline!r}; one of {', '.join(MODES)}")
    out: dict[str, Any] = {"headline": headline}
    out.update({mode: span_scores(gold, pred, mode) for mode in MODES})
    out["n_sentences"], out["n_tokens"] = out["strict"]["n_sentences"], out["strict"]["n_tokens"]
    return out


def headline(split: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(reading, its scores) of one split's record in metrics.json.

    Run folders written before both readings were kept hold one conlleval reading at the top of the record."""
    if "headline" not in split:
        return "conlleval", split
    return split["headline"], split[split["headline"]]


def headline_f1(metrics: dict[str, Any], split: str) -> float | None:
    """The headline micro F1 of `split` in a metrics.json object, or None when the split was not scored."""
    if split not in metrics:
        return None
    return headline(metrics[split])[1]["micro"]["f1"]


def format_scores(split: dict[str, Any], digits: int = 4) -> str:
    """A small fixed-width table of one split's headline reading (per label, micro, macro, token accuracy),
    titled with the reading it shows, and the other reading's micro F1 under it."""
    mode, scores = headline(split)
    rows = [(t, v["precision"], v["recall"], v["f1"], v["support"]) for t, v in scores["per_label"].items()]
    for avg in ("micro", "macro"):
        s = scores[avg]
        rows.append((avg, s["precision"], s["recall"], s["f1"], scores["n_gold"]))
    w = max(len("label"), *(len(r[0]) for r in rows))
    c = max(len("precision"), digits + 2)
    lines = [f"span scores, {mode} reading: {READINGS[mode]}"]
    lines.append(f"{'label':<{w}}  {'precision':>{c}}  {'recall':>{c}}  {'f1':>{c}}  {'support':>7}")
    for i, (name, p, r, f, n) in enumerate(rows):
        if i == len(rows) - 2:
            lines.append("-" * len(lines[1]))
        lines.append(f"{name:<{w}}  {p:>{c}.{digits}f}  {r:>{c}.{digits}f}  {f:>{c}.{digits}f}  {n:>7d}")
    words, sents = scores["n_tokens"], scores["n_sentences"]
    lines.append(f"token accuracy {scores['token_accuracy']:.{digits}f} over {plural(words, 'word')} in "
                 f"{plural(sents, 'sentence')}")
    for other in MODES:
        if other != mode and other in split:
            lines.append(f"({other} reading: micro F1 {split[other]['micro']['f1']:.{digits}f})")
    return "\n".join(lines)


def plural(n: int, noun: str) -> str:
    """'1 word', '2 words' (nouns that take an s)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
