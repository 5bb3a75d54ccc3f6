"""How close relation tags alone come to gold event triggers, per domain.

The method rests on OIE relations sitting where triggers sit in *both* domains; these figures show how
much that holds before any training: if relations cover the target's triggers about as well as the
source's, they can mediate between the two. Two views, labels ignored:
- exact-match span P/R/F1 of relation spans taken as trigger predictions (seqlab_spec.evaluation.scores.span_scores,
  both sides relabelled to one type, so only boundaries count);
- token overlap: the fraction of trigger words inside a relation span, and the fraction of relation
  spans holding at least one trigger word (a relation "has been attacked" contains the trigger
  "attacked" without matching its span).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..data.schemes import spans, to_bio
from ..data.types import Sentence
from ..errors import DataError
from ..evaluation.scores import span_scores

SPAN = "SPAN"


def _untyped(tags: Sequence[str]) -> list[str]:
    """BIO with every type replaced by one, so span matching ignores labels."""
    bio, _ = to_bio(tags, "bio")
    return [t if t == "O" else f"{t[0]}-{SPAN}" for t in bio]


def trigger_overlap(sentences: Sequence[Sentence], rel_tags: Sequence[Sequence[str]]) -> dict[str, Any]:
    """Span P/R/F1 and token overlap of relation tags against the sentences' gold trigger tags."""
    if len(sentences) != len(rel_tags):
        raise DataError(
            f"{len(sentences)} sentences but {len(rel_tags)} relation tag lists; one per sentence"
        )
    gold, pred = [], []
    for i, (s, r) in enumerate(zip(sentences, rel_tags, strict=True)):
        if len(s.tags) != len(r):
            raise DataError(f"{s.where()}: sentence {i} has {len(s.tags)} tags but {len(r)} relation tags")
        gold.append(_untyped(s.tags))
        pred.append(_untyped(r))
    scores = span_scores(gold, pred, "conlleval")  # the reading of `spans` below
    trig_words = trig_in_rel = n_rel = rel_with_trig = 0
    for g, p in zip(gold, pred, strict=True):
        inside = {i for a, b, _ in spans(p) for i in range(a, b)}
        trigger = {i for a, b, _ in spans(g) for i in range(a, b)}
        trig_words += len(trigger)
        trig_in_rel += len(trigger & inside)
        for a, b, _ in spans(p):
            n_rel += 1
            rel_with_trig += any(i in trigger for i in range(a, b))
    return {
        "sentences": len(sentences),
        "triggers": scores["n_gold"],
        "relations": scores["n_pred"],
        "span_precision": scores["micro"]["precision"],
        "span_recall": scores["micro"]["recall"],
        "span_f1": scores["micro"]["f1"],
        "trigger_tokens_in_relation": trig_in_rel / trig_words if trig_words else 0.0,
        "relations_with_trigger": rel_with_trig / n_rel if n_rel else 0.0,
    }


def overlap_by_domain(
    domains: Mapping[str, tuple[Sequence[Sentence], Sequence[Sequence[str]]]],
) -> dict[str, dict[str, Any]]:
    """`trigger_overlap` for each named domain, e.g. {"source": (sents, tags), "target": (...)}."""
    return {name: trigger_overlap(sents, tags) for name, (sents, tags) in domains.items()}


def format_overlap(table: Mapping[str, Mapping[str, Any]], digits: int = 3) -> str:
    """A markdown table of `overlap_by_domain` output, one row per domain."""
    cols = [
        "sentences",
        "triggers",
        "relations",
        "span_precision",
        "span_recall",
        "span_f1",
        "trigger_tokens_in_relation",
        "relations_with_trigger",
    ]
    lines = ["| domain | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, row in table.items():
        cells = [f"{row[c]:.{digits}f}" if isinstance(row[c], float) else str(row[c]) for c in cols]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
