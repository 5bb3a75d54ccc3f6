"""Response formats: a labeled sentence as text the LM learns to write, and that text back to spans.

Two formats (spans are `(start, end, label)` over words, end exclusive):

- `lines` (default): one `span words :: LABEL` per line, in sentence order; the `none_word` when the
  sentence has no span::

      EU :: ORG
      German :: MISC

  The i-th line with the same words is their i-th occurrence in the sentence; where that rule would
  pick another occurrence the line names its own after the label (`saw :: EVENT #2`, see LineResolver).
- `inline`: the sentence itself, each span bracketed with its label::

      [EU|ORG] rejects [German|MISC] call to boycott British lamb .

  Each span sits where its bracket is (the words written before the bracket give its position).

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
MARK = "#"  # `lines`: `saw :: EVENT #2` is the second `saw` of the sentence (see LineResolver)
COUNT_KEYS: tuple[str, ...] = (
    "spans", "malformed", "unknown_label", "not_in_sentence", "repeated", "overlapping"
)
_GROUP = re.compile(r"\[([^\[\]]*)\]")

Span = tuple[int, int, str]
Candidate = tuple[tuple[str, ...], str, int | None]  # words, label, inline position or lines mark


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


def _occurrences(words: Sequence[str], tokens: Sequence[str]) -> list[int]:
    """Start of every occurrence of `words` in `tokens`, left to right."""
    n, words = len(words), tuple(words)
    if not n:
        return []
    return [i for i, t in enumerate(tokens) if t == words[0] and tuple(tokens[i : i + n]) == words]


class LineResolver:
    """Where a `lines` answer's `words :: LABEL` goes: the rule `parse` applies and `render` writes for.

    An unmarked line takes the first occurrence of its words after the previous line with the same
    words, skipping occurrences that overlap a placed span: the i-th mention of a string is its i-th
    occurrence. A line ending in ` #n` (after the label) takes exactly the n-th occurrence (1-based);
    `render` writes the mark only where the rule would pick another occurrence (a gold span on the
    second `saw` of a sentence but not the first). The constrained decoder walks the same states.
    """

    def __init__(self, tokens: Sequence[str]):
        self.tokens = list(tokens)
        self._occ: dict[tuple[str, ...], list[int]] = {}
        self.used = [False] * len(tokens)
        self.cursor: dict[tuple[str, ...], int] = {}  # words -> index (1-based) of their last placed occurrence

    def occurrences(self, words: tuple[str, ...]) -> list[int]:
        if words not in self._occ:
            self._occ[words] = _occurrences(words, self.tokens)
        return self._occ[words]

    def free(self, start: int, n: int) -> bool:
        return not any(self.used[start : start + n])

    def next_free(self, words: tuple[str, ...]) -> int | None:
        """The occurrence index (1-based) an unmarked line with `words` takes, or None."""
        occ = self.occurrences(words)
        return next((i for i in range(self.cursor.get(words, 0), len(occ)) if self.free(occ[i], len(words))), None)

    def resolve(self, words: tuple[str, ...], mark: int | None) -> tuple[int | None, str]:
        """(start, "") for a place, else (None, reason): `not_in_sentence`, `repeated` or `overlapping`."""
        occ = self.occurrences(words)
        if not occ:
            return None, "not_in_sentence"
        if mark is None:
            index = self.next_free(words)
            if index is None:
                return None, "repeated" if words in self.cursor else "overlapping"
        else:
            index = mark - 1
            if not 0 <= index < len(occ):
                return None, "not_in_sentence"
            if not self.free(occ[index], len(words)):
                return None, "repeated" if words in self.cursor else "overlapping"
        self.place(words, index, occ[index])
        return occ[index], ""

    def place(self, words: tuple[str, ...], index: int, start: int) -> None:
        self.used[start : start + len(words)] = [True] * len(words)
        self.cursor[words] = index + 1


def render(sentence: Sentence, fmt: Fmt = "lines", none_word: str = "none") -> str:
    """The gold response of a sentence (words + BIO tags) in format `fmt`; `parse` reads it back exactly."""
    tokens = sentence.tokens
    spans = bio_spans(sentence.tags)
    if fmt == "lines":
        if not spans:
            return none_word
        lines = []
        resolver = LineResolver(tokens)
        for s, e, label in spans:
            words = tuple(tokens[s:e])
            index = resolver.occurrences(words).index(s)
            mark = "" if resolver.next_free(words) == index else f" {MARK}{index + 1}"
            resolver.place(words, index, s)
            lines.append(f"{' '.join(words)} {SEP} {label}{mark}")
        return "\n".join(lines)
    if fmt == "inline":
        words_out: list[str] = []
        cursor = 0
        for s, e, label in spans:
            words_out.extend(tokens[cursor:s])
            words_out.append(f"[{' '.join(tokens[s:e])}|{label}]")
            cursor = e
        words_out.extend(tokens[cursor:])
        return " ".join(words_out)
    raise ValueError(f"unknown response format {fmt!r}; use one of {FORMATS}")


@dataclass
class ParseResult:
    """Spans placed in the sentence, and how many candidates were rejected for which reason."""

    spans: list[Span]
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_KEYS, 0))


def _label_and_mark(part: str, allowed: set[str]) -> tuple[str, int | None]:
    """`LABEL` or `LABEL #n` (the occurrence mark of `lines`) -> (label, n or None)."""
    part = part.strip()
    label, sep, n = part.rpartition(f" {MARK}")
    if sep and n.isdigit() and part not in allowed and label.strip():
        return label.strip(), int(n)
    return part, None


def _candidates_lines(text: str, none_word: str, allowed: set[str], counts: dict[str, int]) -> list[Candidate]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.lower() == none_word.lower():
            continue
        words, sep, label = line.rpartition(SEP)
        if not sep or not words.strip() or not label.strip():
            counts["malformed"] += 1
            continue
        label, mark = _label_and_mark(label, allowed)
        out.append((tuple(words.split()), label, mark))
    return out


def _candidates_inline(text: str, tokens: Sequence[str], counts: dict[str, int]) -> list[Candidate]:
    """Labeled groups with the word position of their bracket (words written before it, inside and out)."""
    out = []
    groups = 0
    position = 0
    cursor = 0
    for match in _GROUP.finditer(text):
        words, sep, label = match.group(1).rpartition("|")
        if not sep:
            continue  # brackets without a label: words of the sentence, or an unlabeled span (below)
        groups += 1
        position += len(text[cursor : match.start()].split())
        cursor = match.end()
        if not words.strip() or not label.strip():
            counts["malformed"] += 1
            continue
        out.append((tuple(words.split()), label.strip(), position))
        position += len(words.split())
    # An opening bracket outside a labeled group is a span the model began but never labeled or
    # closed (typically cut by max_new_tokens), unless the sentence itself has that bracket as a word.
    stray = text.count("[") - groups - sum(t.count("[") for t in tokens)
    counts["malformed"] += max(0, stray)
    return out


def _place_inline(words: tuple[str, ...], at: int, used: list[bool], tokens: Sequence[str]) -> tuple[int | None, str]:
    """The bracket's own position when the words are there, else (a miscopied sentence) the nearest free
    occurrence, left first on ties."""
    occ = _occurrences(words, tokens)
    free = [i for i in occ if not any(used[i : i + len(words)])]
    if not occ:
        return None, "not_in_sentence"
    if not free:
        return None, "overlapping"
    return min(free, key=lambda i: (abs(i - at), i)), ""


def parse(
    text: str, tokens: Sequence[str], fmt: Fmt = "lines", labels: Iterable[str] = (), none_word: str = "none"
) -> ParseResult:
    """Map generated text to word spans of `tokens`; never raises.

    Where a candidate `(words, LABEL)` goes (words whitespace-normalised, matched exactly): `inline`,
    where its bracket is (the words written before it count the position; a sentence copied with a word
    missing or added falls back to the nearest free occurrence); `lines`, by `LineResolver`'s rule (the
    i-th line with the same words takes their i-th occurrence; ` #n` after the label names it). Rejections,
    one reason each: `malformed` (no separator / empty part / unclosed bracket), `unknown_label` (not in
    `labels`), `not_in_sentence`, `repeated` (same words as an already placed span, no occurrence left),
    `overlapping` (the occurrence overlaps a placed span).
    """
    result = ParseResult(spans=[])
    counts = result.counts
    allowed = set(labels)
    resolver = LineResolver(tokens)
    if fmt == "inline":
        candidates = _candidates_inline(text, tokens, counts)
    else:
        candidates = _candidates_lines(text, none_word, allowed, counts)
    placed: set[tuple[str, ...]] = set()
    for words, label, where in candidates:
        if label not in allowed:
            counts["unknown_label"] += 1
            continue
        if fmt == "inline":
            start, reason = _place_inline(words, where or 0, resolver.used, tokens)
            if start is not None:
                resolver.used[start : start + len(words)] = [True] * len(words)
            elif reason == "overlapping" and words in placed:
                reason = "repeated"
        else:
            start, reason = resolver.resolve(words, where)
        if start is None:
            counts[reason] += 1
            continue
        placed.add(words)
        result.spans.append((start, start + len(words), label))
    result.spans.sort()
    counts["spans"] = len(result.spans)
    return result
