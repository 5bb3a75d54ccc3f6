"""Response formats: a labeled sentence as text the LM learns to write, and that text back to spans.

Two formats (spans are `(start, end, label)` over words, end exclusive):

- `lines` (default): one `span words :: LABEL` per line, in sentence order; the `none_word` when the
  sentence has no span::

      EU :: ORG
      German :: MISC

- `inline`: the sentence itself, each span bracketed with its label::

      [EU|ORG] rejects [German|MISC] call to boycott British lamb .

The parser never raises: a model's output is evidence, not input we control. Every span it cannot
place is counted under one reason (`malformed`, `unknown_label`, `not_in_sentence`, `repeated`,
`overlapping`) so that metrics.json says how the model fails, not only how often.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ..data.schemes import spans as bio_spans
from ..data.types import Sentence

Fmt = Literal["lines", "inline"]
FORMATS: tuple[str, ...] = ("lines", "inline")
SEP = "::"
COUNT_KEYS: tuple[str, ...] = (
    "spans", "malformed", "unknown_label", "not_in_sentence", "repeated", "overlapping"
)
_GROUP = re.compile(r"\[([^\[\]]*)\]")

Span = tuple[int, int, str]


def spans_to_bio(spans: Iterable[Span], n: int) -> list[str]:
    """BIO tags of `n` words from non-overlapping spans (what evaluation compares with gold)."""
    tags = ["O"] * n
    for start, end, label in sorted(spans):
        if not 0 <= start < end <= n:
            raise ValueError(f"span {(start, end, label)} outside a sentence of {n} words")
        if any(t != "O" for t in tags[start:end]):
            raise ValueError(f"span {(start, end, label)} overlaps another span")
        tags[start] = f"B-{label}"
        tags[start + 1 : end] = [f"I-{label}"] * (end - start - 1)
    return tags


def render(sentence: Sentence, fmt: Fmt = "lines", none_word: str = "none") -> str:
    """The gold response of a sentence (words + BIO tags) in format `fmt`."""
    tokens = sentence.tokens
    spans = bio_spans(sentence.tags)
    if fmt == "lines":
        if not spans:
            return none_word
        return "\n".join(f"{' '.join(tokens[s:e])} {SEP} {label}" for s, e, label in spans)
    if fmt == "inline":
        words: list[str] = []
        cursor = 0
        for s, e, label in spans:
            words.extend(tokens[cursor:s])
            words.append(f"[{' '.join(tokens[s:e])}|{label}]")
            cursor = e
        words.extend(tokens[cursor:])
        return " ".join(words)
    raise ValueError(f"unknown response format {fmt!r}; use one of {FORMATS}")


@dataclass
class ParseResult:
    """Spans placed in the sentence, and how many candidates were rejected for which reason."""

    spans: list[Span]
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_KEYS, 0))


def _candidates_lines(text: str, none_word: str, counts: dict[str, int]) -> list[tuple[str, str]]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.lower() == none_word.lower():
            continue
        words, sep, label = line.rpartition(SEP)
        if not sep or not words.strip() or not label.strip():
            counts["malformed"] += 1
            continue
        out.append((words, label.strip()))
    return out


def _candidates_inline(text: str, tokens: Sequence[str], counts: dict[str, int]) -> list[tuple[str, str]]:
    out = []
    groups = 0
    for match in _GROUP.finditer(text):
        words, sep, label = match.group(1).rpartition("|")
        if not sep:
            continue  # brackets without a label: words of the sentence, or an unlabeled span (below)
        groups += 1
        if not words.strip() or not label.strip():
            counts["malformed"] += 1
            continue
        out.append((words, label.strip()))
    # An opening bracket outside a labeled group is a span the model began but never labeled or
    # closed (typically cut by max_new_tokens), unless the sentence itself has that bracket as a word.
    stray = text.count("[") - groups - sum(t.count("[") for t in tokens)
    counts["malformed"] += max(0, stray)
    return out


def _occurrences(words: list[str], tokens: Sequence[str]) -> list[int]:
    n = len(words)
    return [i for i in range(len(tokens) - n + 1) if list(tokens[i : i + n]) == words]


def parse(
    text: str, tokens: Sequence[str], fmt: Fmt = "lines", labels: Iterable[str] = (), none_word: str = "none"
) -> ParseResult:
    """Map generated text to word spans of `tokens`; never raises.

    A candidate `(words, LABEL)` is placed at the first occurrence, left to right, of exactly those
    words (whitespace-normalised) whose words no earlier span has used. Rejections, one reason each:
    `malformed` (no separator / empty part / unclosed bracket), `unknown_label` (not in `labels`),
    `not_in_sentence`, `repeated` (same words as an already placed span, no unused occurrence left),
    `overlapping` (every occurrence overlaps a placed span).
    """
    result = ParseResult(spans=[])
    counts = result.counts
    allowed = set(labels)
    if fmt == "inline":
        candidates = _candidates_inline(text, tokens, counts)
    else:
        candidates = _candidates_lines(text, none_word, counts)
    used = [False] * len(tokens)
    placed_words: set[tuple[str, ...]] = set()
    for raw_words, label in candidates:
        if label not in allowed:
            counts["unknown_label"] += 1
            continue
        words = raw_words.split()
        occurrences = _occurrences(words, tokens)
        free = [i for i in occurrences if not any(used[i : i + len(words)])]
        if free:
            start = free[0]
            used[start : start + len(words)] = [True] * len(words)
            placed_words.add(tuple(words))
            result.spans.append((start, start + len(words), label))
        elif not occurrences:
            counts["not_in_sentence"] += 1
        elif tuple(words) in placed_words:
            counts["repeated"] += 1
        else:
            counts["overlapping"] += 1
    result.spans.sort()
    counts["spans"] = len(result.spans)
    return result
