"""The response automata of constrained decoding (`sift.constrain`): one per query and response format.

Each format is a small automaton over the response's UTF-8 bytes (`LinesGrammar`, `InlineGrammar`). A state is a
frozenset of hashable sub-states (an NFA: `" "` both continues span words and starts `" :: "`). A grammar says
which bytes may come next in a state and how many bytes the shortest completion needs, which is all the logits
processor in `sift.constrain` asks of it.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable, Sequence

from ..errors import ModelError
from .formats import MARK, SEP, Fmt

Sub = tuple  # one NFA sub-state: a tuple whose first item names its phase
State = frozenset


def _usable_labels(labels: Iterable[str], fmt: Fmt) -> list[bytes]:
    bad = "[]|" if fmt == "inline" else ""
    out = [lab.encode() for lab in labels if lab and not any(c.isspace() or c in bad for c in lab)]
    if not out:
        raise ModelError(f"constrained decoding: no label of {list(labels)} can be written in the {fmt} format")
    return sorted(out)


def _one_word(token: str, fmt: Fmt) -> bool:
    """A word the parser reads back as itself (and, inline, one a bracket may hold)."""
    return token.split() == [token] and not (fmt == "inline" and ("[" in token or "]" in token))


def _prefixed(sorted_keys: Sequence[bytes], prefix: bytes) -> list[bytes]:
    lo = bisect.bisect_left(sorted_keys, prefix)
    hi = lo
    while hi < len(sorted_keys) and sorted_keys[hi].startswith(prefix):
        hi += 1
    return list(sorted_keys[lo:hi])


class Grammar:
    """What both formats share: the lead (the plain template's space after the header), the NFA step, ends."""

    alphabet: set[int]  # every byte a response may hold
    longest: int  # no state needs more bytes than this to complete

    def __init__(self, lead: bytes, labels: list[bytes]):
        self.lead = lead
        self.labels = labels
        self.min_label = min(len(lab) for lab in labels)
        self._steps: dict[tuple[State, int], State] = {}
        self._dists: dict[State, int] = {}
        self._next: dict[State, set[int]] = {}

    def start(self) -> State:
        return State([("lead", 0)]) if self.lead else State(self._after_lead())

    def step(self, state: State, b: int) -> State:
        key = (state, b)
        if key not in self._steps:
            self._steps[key] = State(s for sub in state for s in self._step(sub, b))
        return self._steps[key]

    def next_bytes(self, state: State) -> set[int]:
        """The bytes `step` accepts from `state`."""
        if state not in self._next:
            self._next[state] = {b for sub in state for b in self._next_bytes(sub)}
        return self._next[state]

    def final(self, state: State) -> bool:
        return any(self._final(sub) for sub in state)

    def dist(self, state: State) -> int:
        """Fewest bytes that complete the response from `state`."""
        if state not in self._dists:
            self._dists[state] = min(self._dist(sub) for sub in state)
        return self._dists[state]

    def _lead_step(self, sub: Sub, b: int) -> list[Sub]:
        k = sub[1]
        if b != self.lead[k]:
            return []
        return [("lead", k + 1)] if k + 1 < len(self.lead) else self._after_lead()

    def _lead_dist(self, sub: Sub) -> int:
        return len(self.lead) - sub[1] + min(self._dist(s) for s in self._after_lead())

    def _label_next(self, buf: bytes) -> set[int]:
        return {lab[len(buf)] for lab in _prefixed(self.labels, buf) if len(lab) > len(buf)}

    def _label_rest(self, buf: bytes) -> int | None:
        rest = [len(lab) - len(buf) for lab in _prefixed(self.labels, buf)]
        return min(rest) if rest else None

    def _after_lead(self) -> list[Sub]:
        raise NotImplementedError

    def _step(self, sub: Sub, b: int) -> list[Sub]:
        raise NotImplementedError

    def _next_bytes(self, sub: Sub) -> set[int]:
        raise NotImplementedError

    def _final(self, sub: Sub) -> bool:
        raise NotImplementedError

    def _dist(self, sub: Sub) -> int:
        raise NotImplementedError


_SEP = f" {SEP} ".encode()
_NL, _SPACE, _MARK = ord("\n"), ord(" "), ord(MARK)


class LinesGrammar(Grammar):
    """`words :: LABEL[ #n]` lines joined by newlines, or the none word; a line's words must have a free
    occurrence (`LineResolver`'s rule, or the one its mark names). Context of a line: (used word bitmask,
    the resolver's cursors)."""

    def __init__(self, tokens: Sequence[str], labels: list[bytes], none_word: str, lead: bytes):
        super().__init__(lead, labels)
        self.tokens = list(tokens)
        self.none = none_word.encode()
        text = " ".join(tokens).encode()
        self.alphabet = set(lead + text + self.none + b"".join(labels) + _SEP + b"\n #0123456789")
        self.longest = len(lead) + max(len(self.none), len(text) + len(_SEP) + max(map(len, labels)) + 8)
        self.occurrences: dict[tuple[str, ...], list[int]] = {}  # every span of whole words -> its starts
        n = len(tokens)
        for i in range(n):
            for j in range(i + 1, n + 1):
                if not _one_word(tokens[j - 1], "lines"):
                    break
                self.occurrences.setdefault(tuple(tokens[i:j]), []).append(i)
        self.ctx0 = (0, ())
        self._words_cache: dict[tuple, tuple[list[bytes], dict[bytes, tuple]]] = {}

    def words(self, ctx: tuple) -> tuple[list[bytes], dict[bytes, tuple]]:
        """Sorted span texts writable in `ctx`, and per text: (words, the occurrence index an unmarked line
        takes or None, the free occurrence indices a ` #n` mark may name: every other free one)."""
        if ctx not in self._words_cache:
            used, cursors = ctx
            cursor = dict(cursors)
            info: dict[bytes, tuple] = {}
            for words, occ in self.occurrences.items():
                width = (1 << len(words)) - 1
                free = [k for k, start in enumerate(occ) if not used & (width << start)]
                if free:
                    after = [k for k in free if k >= cursor.get(words, 0)]
                    unmarked = after[0] if after else None
                    # a mark only where the unmarked rule would pick another occurrence (what render writes)
                    info[" ".join(words).encode()] = (words, unmarked, [k for k in free if k != unmarked])
            self._words_cache[ctx] = (sorted(info), info)
        return self._words_cache[ctx]

    def place(self, ctx: tuple, words: tuple[str, ...], index: int) -> tuple:
        used, cursors = ctx
        start = self.occurrences[words][index]
        cursor = dict(cursors) | {words: index + 1}
        return (used | (((1 << len(words)) - 1) << start), tuple(sorted(cursor.items())))

    def _line_start(self, ctx: tuple, first: bool) -> list[Sub]:
        subs: list[Sub] = [("none", 0)] if first else []
        if self.words(ctx)[0]:
            subs.append(("w", ctx, b""))
        return subs

    def _after_lead(self) -> list[Sub]:
        return self._line_start(self.ctx0, True)

    def _line_end(self, ctx: tuple, w: bytes, index: int | None, b: int) -> list[Sub]:
        if b != _NL or index is None:
            return []
        return self._line_start(self.place(ctx, self.words(ctx)[1][w][0], index), False)

    def _step(self, sub: Sub, b: int) -> list[Sub]:
        kind = sub[0]
        if kind == "lead":
            return self._lead_step(sub, b)
        if kind == "none":
            k = sub[1]
            return [("none", k + 1)] if k < len(self.none) and self.none[k] == b else []
        ctx = sub[1]
        keys, info = self.words(ctx)
        if kind == "w":
            buf = sub[2]
            out: list[Sub] = []
            nb = buf + bytes([b])
            i = bisect.bisect_left(keys, nb)
            if i < len(keys) and keys[i].startswith(nb):
                out.append(("w", ctx, nb))
            if b == _SPACE and buf in info:
                out.append(("sep", ctx, buf, 1))
            return out
        w = sub[2]
        if kind == "sep":
            k = sub[3]
            if _SEP[k] != b:
                return []
            return [("sep", ctx, w, k + 1)] if k + 1 < len(_SEP) else [("lab", ctx, w, b"")]
        if kind == "lab":
            buf = sub[3]
            nb = buf + bytes([b])
            if _prefixed(self.labels, nb):
                return [("lab", ctx, w, nb)]
            if buf not in self.labels:
                return []
            if b == _SPACE:
                return [("mark", ctx, w, None)] if info[w][2] else []
            return self._line_end(ctx, w, info[w][1], b)
        # mark: " #" then the 1-based index of a free occurrence
        digits = sub[3]
        if digits is None:
            return [("mark", ctx, w, b"")] if b == _MARK else []
        marks = [str(k + 1).encode() for k in info[w][2]]
        nd = digits + bytes([b])
        if any(m.startswith(nd) for m in marks):
            return [("mark", ctx, w, nd)]
        return self._line_end(ctx, w, int(digits) - 1, b) if digits in marks else []

    def _next_bytes(self, sub: Sub) -> set[int]:
        kind = sub[0]
        if kind == "lead":
            return {self.lead[sub[1]]}
        if kind == "none":
            return {self.none[sub[1]]} if sub[1] < len(self.none) else set()
        ctx = sub[1]
        keys, info = self.words(ctx)
        if kind == "w":
            buf = sub[2]
            out = {w[len(buf)] for w in _prefixed(keys, buf) if len(w) > len(buf)}
            return out | {_SPACE} if buf in info else out
        w = sub[2]
        if kind == "sep":
            return {_SEP[sub[3]]}
        if kind == "lab":
            buf = sub[3]
            out = self._label_next(buf)
            if buf in self.labels:
                if info[w][2]:
                    out.add(_SPACE)
                if info[w][1] is not None:
                    out.add(_NL)
            return out
        digits = sub[3]
        if digits is None:
            return {_MARK}
        marks = [str(k + 1).encode() for k in info[w][2]]
        out = {m[len(digits)] for m in marks if m.startswith(digits) and len(m) > len(digits)}
        return out | {_NL} if digits in marks else out

    def _final(self, sub: Sub) -> bool:
        kind = sub[0]
        if kind == "none":
            return sub[1] == len(self.none)
        if kind == "lab":
            return sub[3] in self.labels and self.words(sub[1])[1][sub[2]][1] is not None
        if kind == "mark":
            return sub[3] is not None and sub[3] in [str(k + 1).encode() for k in self.words(sub[1])[1][sub[2]][2]]
        return False

    def _tail(self, ctx: tuple, w: bytes) -> int:
        """Bytes after the label: none when the unmarked rule places `w`, else ` #n` with the shortest n."""
        _, index, free = self.words(ctx)[1][w]
        return 0 if index is not None else 2 + min(len(str(k + 1)) for k in free)

    def _dist(self, sub: Sub) -> int:
        kind = sub[0]
        if kind == "lead":
            return self._lead_dist(sub)
        if kind == "none":
            return len(self.none) - sub[1]
        ctx = sub[1]
        if kind == "w":
            buf = sub[2]
            keys, _ = self.words(ctx)
            rest = min(len(w) - len(buf) + self._tail(ctx, w) for w in _prefixed(keys, buf))
            return rest + len(_SEP) + self.min_label
        w = sub[2]
        if kind == "sep":
            return len(_SEP) - sub[3] + self.min_label + self._tail(ctx, w)
        if kind == "lab":
            rest = self._label_rest(sub[3])
            return (rest or 0) + self._tail(ctx, w)
        digits = sub[3]
        if digits is None:
            return 1 + min(len(str(k + 1)) for k in self.words(ctx)[1][w][2])
        marks = [str(k + 1) for k in self.words(ctx)[1][w][2]]
        return min(len(m) - len(digits) for m in marks if m.encode().startswith(digits))


class InlineGrammar(Grammar):
    """The query's words in order, single spaces between, any run of whole words bracketed as
    `[words|LABEL]`. Sub-states: ("wd", i, k, g): k bytes of word i written, g the open bracket's first
    word or None; ("lab", i, g, buf); ("close", i)."""

    def __init__(self, tokens: Sequence[str], labels: list[bytes], lead: bytes):
        super().__init__(lead, labels)
        self.words = [t.encode() for t in tokens]
        text = b" ".join(self.words)
        self.alphabet = set(lead + text + b"".join(labels) + b"[|]")
        self.longest = len(lead) + len(text) + 2 + max(map(len, labels))
        self.bracketable = [_one_word(t, "inline") for t in tokens]
        n = len(tokens)
        self.rest = [0] * (n + 1)  # bytes of " word" for words i.. n-1
        for i in range(n - 1, -1, -1):
            self.rest[i] = 1 + len(self.words[i]) + self.rest[i + 1]

    def _after_lead(self) -> list[Sub]:
        return [("wd", 0, 0, None)]

    def _boundary(self, i: int, g: int | None, b: int) -> list[Sub]:
        """After word i (and its closing bracket, if any): a space then word i + 1 (inside the group `g`)."""
        if b != _SPACE or i + 1 >= len(self.words):
            return []
        if g is not None and not self.bracketable[i + 1]:
            return []
        return [("wd", i + 1, 0, g)]

    def _step(self, sub: Sub, b: int) -> list[Sub]:
        kind = sub[0]
        if kind == "lead":
            return self._lead_step(sub, b)
        if kind == "close":
            return self._boundary(sub[1], None, b)
        if kind == "lab":
            _, i, g, buf = sub
            nb = buf + bytes([b])
            if _prefixed(self.labels, nb):
                return [("lab", i, g, nb)]
            return [("close", i)] if buf in self.labels and b == ord("]") else []
        _, i, k, g = sub
        word = self.words[i]
        out: list[Sub] = []
        if k == 0 and g is None and b == ord("[") and self.bracketable[i]:
            out.append(("wd", i, 0, i))
        if k < len(word):
            if word[k] == b:
                out.append(("wd", i, k + 1, g))
            return out
        if g is not None and b == ord("|"):
            out.append(("lab", i, g, b""))
        return out + self._boundary(i, g, b)

    def _next_bytes(self, sub: Sub) -> set[int]:
        kind = sub[0]
        if kind == "lead":
            return {self.lead[sub[1]]}
        if kind == "close":
            return {_SPACE} if sub[1] + 1 < len(self.words) else set()
        if kind == "lab":
            buf = sub[3]
            return self._label_next(buf) | ({ord("]")} if buf in self.labels else set())
        _, i, k, g = sub
        word = self.words[i]
        out = set()
        if k == 0 and g is None and self.bracketable[i]:
            out.add(ord("["))
        if k < len(word):
            return out | {word[k]}
        if g is not None:
            out.add(ord("|"))
        if i + 1 < len(self.words) and (g is None or self.bracketable[i + 1]):
            out.add(_SPACE)
        return out

    def _final(self, sub: Sub) -> bool:
        n = len(self.words)
        if sub[0] == "close":
            return sub[1] == n - 1
        return sub[0] == "wd" and sub[1] == n - 1 and sub[2] == len(self.words[-1]) and sub[3] is None

    def _dist(self, sub: Sub) -> int:
        kind = sub[0]
        if kind == "lead":
            return self._lead_dist(sub)
        if kind == "close":
            return self.rest[sub[1] + 1]
        if kind == "lab":
            return (self._label_rest(sub[3]) or 0) + 1 + self.rest[sub[1] + 1]
        _, i, k, g = sub
        closing = 0 if g is None else 2 + self.min_label
        return len(self.words[i]) - k + closing + self.rest[i + 1]


@functools.lru_cache(maxsize=4096)
def _grammar(tokens: tuple[str, ...], fmt: Fmt, labels: tuple[str, ...], none_word: str, lead: bytes) -> Grammar:
    usable = _usable_labels(labels, fmt)
    if fmt == "inline":
        return InlineGrammar(tokens, usable, lead)
    return LinesGrammar(tokens, usable, none_word, lead)


def grammar_for(tokens: Sequence[str], fmt: Fmt, labels: Sequence[str], none_word: str, chat: bool) -> Grammar:
    """The response automaton of one query (the plain template's response starts with a space)."""
    return _grammar(tuple(tokens), fmt, tuple(labels), none_word, b"" if chat else b" ")
