"""Strict span scores: precision/recall/F1 micro and macro, per label, token accuracy.

`span_scores` returns {"precision", "recall", "f1" (micro, the headline), "micro": {precision, recall,
f1}, "macro": {...}, "per_label": {type: {precision, recall, f1, support}}, "token_accuracy",
"n_sentences", "n_tokens", "n_gold", "n_pred", "n_correct"}: plain Python numbers, JSON-ready.

A span counts as correct only when its start, end and type all match a gold span. Both sequences are
first read as BIO the way seqeval's default (conlleval-style) reader reads them: a tag that continues no
span (I-X after O, I-X after B-Y) starts one. Hence, by construction and by test:

* on any O/B-/I- sequences the numbers equal seqeval's default mode
  (`classification_report(gold, pred, output_dict=True)`, `f1_score(gold, pred)`);
* on valid BIO they also equal seqeval's strict mode (`mode="strict", scheme=IOB2`), which on invalid
  sequences instead drops the spans an I- would open.

Zero division gives 0.0 as in seqeval (no predicted spans: precision 0; no gold spans: recall 0). One
deliberate difference: with no span type in gold or prediction, the macro averages are 0.0 where
seqeval returns nan (nan does not survive metrics.json). Token accuracy is over the same BIO reading.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from .data.schemes import TagError, spans, to_bio
from .errors import DataError


def _prf(tp: int, n_pred: int, n_gold: int) -> tuple[float, float, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2.0 * p * r / (p + r) if p + r else 0.0  # seqeval's order of operations: equal to the last bit
    return p, r, f


def span_scores(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict[str, Any]:
    """Scores of predicted against gold tag sequences (one list of BIO tags per sentence)."""
    if len(gold) != len(pred):
        raise DataError(f"{len(gold)} gold sentences but {len(pred)} predicted; score the same sentences")
    n_gold: Counter[str] = Counter()
    n_pred: Counter[str] = Counter()
    n_tp: Counter[str] = Counter()
    tokens = correct_tokens = 0
    for i, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if len(g) != len(p):
            raise DataError(f"sentence {i}: {len(g)} gold tags but {len(p)} predicted; one tag per word")
        try:
            gb, pb = to_bio(g, "bio")[0], to_bio(p, "bio")[0]
        except TagError as e:
            raise DataError(f"sentence {i}: {e}") from None
        tokens += len(gb)
        correct_tokens += sum(a == b for a, b in zip(gb, pb, strict=True))
        gs, ps = set(spans(gb)), set(spans(pb))
        n_gold.update(t for _, _, t in gs)
        n_pred.update(t for _, _, t in ps)
        n_tp.update(t for _, _, t in gs & ps)
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
        "precision": p,  # the headline numbers are the micro ones, repeated at the top for convenience
        "recall": r,
        "f1": f,
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


def format_scores(scores: dict[str, Any], digits: int = 4) -> str:
    """A small fixed-width table of `span_scores` output (per label, micro, macro, token accuracy)."""
    rows = [(t, v["precision"], v["recall"], v["f1"], v["support"]) for t, v in scores["per_label"].items()]
    for avg in ("micro", "macro"):
        s = scores[avg]
        rows.append((avg, s["precision"], s["recall"], s["f1"], scores["n_gold"]))
    w = max(len("label"), *(len(r[0]) for r in rows))
    c = max(len("precision"), digits + 2)
    lines = [f"{'label':<{w}}  {'precision':>{c}}  {'recall':>{c}}  {'f1':>{c}}  {'support':>7}"]
    for i, (name, p, r, f, n) in enumerate(rows):
        if i == len(rows) - 2:
            lines.append("-" * len(lines[0]))
        lines.append(f"{name:<{w}}  {p:>{c}.{digits}f}  {r:>{c}.{digits}f}  {f:>{c}.{digits}f}  {n:>7d}")
    lines.append(
        f"token accuracy {scores['token_accuracy']:.{digits}f} over {scores['n_tokens']} tokens "
        f"in {scores['n_sentences']} sentences"
    )
    return "\n".join(lines)
