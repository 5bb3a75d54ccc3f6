"""Constrained decoding (`method.decoding: constrained`): every generated answer parses, by construction.

At each step a `transformers` LogitsProcessor leaves only the tokens that keep the response a valid prefix
of its format for that query: span words that are a contiguous word sequence of the query at a position
not yet used (`lines`: the occurrence `LineResolver` would take, or one named with ` #n`; `inline`: the
sentence copied word by word with brackets around whole words), a label of the label set, the format's
separators, the none word, and eos once the response is complete. So the parser never counts
`malformed`, `unknown_label`, `not_in_sentence`, `repeated` or `overlapping` for such an answer.

How: each response format is a small automaton over the response's UTF-8 bytes (`LinesGrammar`,
`InlineGrammar`; a state is a frozenset of hashable sub-states, an NFA, because `" "` both continues span
words and starts `" :: "`). The tokenizer's own pieces are turned once into bytes (byte-level BPE through
the GPT-2 byte alphabet, SentencePiece through `▁` and `<0xNN>` byte pieces), sorted; the tokens allowed
in a state are found by walking that sorted list and the automaton together, so only pieces that start a
valid continuation are ever looked at (no per-step decoding of the vocabulary), and each state's answer is
cached.

Ending: a token is allowed only if the response can still be completed within the query's token bound
(the shortest completion in bytes, one single-byte token each, plus eos), and the bound is raised to the
shortest complete response when it is below it; so generation always ends (no `unfinished`).
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Sequence
from typing import Any

import torch
from transformers import LogitsProcessor

from ..errors import ModelError
from .grammar import Grammar, State

_BYTE_PIECE = re.compile(r"<0x([0-9A-Fa-f]{2})>")
_PROBE = "Sentence: EU [rejects|ORG] ::\nnone 1996-08-22 Ünïcode 東京 😀 #2"


def _byte_level_decoder() -> dict[str, int]:
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    return {c: b for b, c in bytes_to_unicode().items()}


def token_bytes(tokenizer: Any) -> list[bytes | None]:
    """The bytes each token id writes (None: special tokens, never generated inside a response).

    Raises ModelError when the tokenizer's pieces cannot be read as bytes (a tokenizer neither byte-level
    BPE nor SentencePiece-like), checked by spelling a probe text with its own ids."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise ModelError(
            f"constrained decoding needs a fast tokenizer; {tokenizer.name_or_path!r} is not one: "
            "use method.decoding: free"
        )
    decoder = json.dumps(json.loads(backend.to_str()).get("decoder"))
    byte_level = "ByteLevel" in decoder
    table = _byte_level_decoder() if byte_level else {}
    special = set(tokenizer.all_special_ids)
    pieces = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    out: list[bytes | None] = []
    for i, piece in enumerate(pieces):
        if i in special or piece is None:
            out.append(None)
        elif byte_level:
            out.append(bytes(table[c] for c in piece) if all(c in table for c in piece) else None)
        elif m := _BYTE_PIECE.fullmatch(piece):
            out.append(bytes([int(m.group(1), 16)]))
        else:
            out.append(piece.replace("▁", " ").encode("utf-8"))
    ids = tokenizer(_PROBE, add_special_tokens=False)["input_ids"]
    spelled = b"".join(out[i] or b"\0" for i in ids)
    if spelled.lstrip(b" ") != _PROBE.encode("utf-8"):
        raise ModelError(
            f"constrained decoding cannot read the pieces of tokenizer {tokenizer.name_or_path!r} as text "
            f"({_PROBE!r} came back as {spelled!r}); use method.decoding: free"
        )
    return out


class Vocab:
    """Token ids sorted by their bytes, for prefix walks; built once per tokenizer (`vocab_for`)."""

    def __init__(self, pieces: Sequence[bytes | None], eos_id: int):
        pairs = sorted((b, i) for i, b in enumerate(pieces) if b)
        self.keys = [b for b, _ in pairs]
        self.ids = [i for _, i in pairs]
        self.single = {b[0] for b in self.keys if len(b) == 1}
        self.size = len(pieces)
        self.eos_id = eos_id

    def allowed(self, state: State, grammar: Grammar) -> list[tuple[int, State]]:
        """(token id, state after it) for every token whose bytes the grammar accepts from `state`."""
        out: list[tuple[int, State]] = []
        self._visit(0, len(self.keys), b"", state, grammar, out)
        return out

    def _visit(self, lo: int, hi: int, prefix: bytes, state: State, grammar: Grammar, out: list) -> None:
        keys, depth = self.keys, len(prefix)
        while lo < hi and len(keys[lo]) == depth:
            out.append((self.ids[lo], state))
            lo += 1
        for b in sorted(grammar.next_bytes(state)):
            head = prefix + bytes([b])
            start = bisect.bisect_left(keys, head, lo, hi)
            if start == hi or not keys[start].startswith(head):
                continue
            end = hi if b == 255 else bisect.bisect_left(keys, prefix + bytes([b + 1]), start, hi)
            nxt = grammar.step(state, b)  # next_bytes may offer a byte that leads nowhere (no span left)
            if nxt:
                self._visit(start, end, head, nxt, grammar, out)


def vocab_for(tokenizer: Any) -> Vocab:
    """The tokenizer's `Vocab`, built on first use and kept on the tokenizer object."""
    vocab = getattr(tokenizer, "_seqlab_vocab", None)
    if vocab is None or len(vocab.single) == 0 or vocab.size != len(tokenizer):
        vocab = Vocab(token_bytes(tokenizer), tokenizer.eos_token_id)
        tokenizer._seqlab_vocab = vocab
    return vocab


def check_coverage(vocab: Vocab, grammar: Grammar) -> None:
    """Every byte a response may need has a one-byte token (what guarantees an end within the bound)."""
    missing = sorted(set(grammar.alphabet) - vocab.single)
    if missing:
        raise ModelError(
            f"constrained decoding needs a one-byte token for every byte of the response; this tokenizer has "
            f"none for {bytes(missing)!r}: use method.decoding: free"
        )


class ConstrainedLogits(LogitsProcessor):
    """Masks, for each row of a batch, every token that would leave its query's response format.

    `grammars[r]` is row r's automaton, `bounds[r]` its token bound, `prompt_len` the (left-padded) prompt
    length: tokens after it are the response so far. Rows that wrote eos are left alone (generate pads them).
    With `record`, `allowed_log[r]` keeps the ids allowed at each step of row r (for notebook 04's view).
    """

    def __init__(
        self, vocab: Vocab, grammars: Sequence[Grammar], bounds: Sequence[int], prompt_len: int, record: bool = False
    ):
        self.vocab, self.grammars, self.bounds, self.prompt_len = vocab, list(grammars), list(bounds), prompt_len
        self.states: list[State | None] = [g.start() for g in self.grammars]
        self.seen = [0] * len(self.grammars)
        self._allowed: list[dict[State, dict[int, State]]] = [{} for _ in self.grammars]
        self.allowed_log: list[list[list[int]]] | None = [[] for _ in self.grammars] if record else None

    def _advance(self, row: int, new: list[int]) -> None:
        for token in new[self.seen[row] :]:
            state = self.states[row]
            if state is None:
                break
            if token == self.vocab.eos_id:
                self.states[row] = None
                break
            nxt = self._candidates(row, state).get(token)
            if nxt is None:
                raise RuntimeError(f"row {row}: token {token} was generated though the constraint masked it")
            self.states[row] = nxt
        self.seen[row] = len(new)

    def _candidates(self, row: int, state: State) -> dict[int, State]:
        cache = self._allowed[row]
        if state not in cache:
            cache[state] = dict(self.vocab.allowed(state, self.grammars[row]))
        return cache[state]

    def allowed_ids(self, row: int, steps: int) -> list[int]:
        """Ids allowed for row `row` after `steps` generated tokens (eos once the response is complete)."""
        state = self.states[row]
        if state is None:
            return []
        grammar = self.grammars[row]
        room = self.bounds[row] - steps - 2  # completion bytes that still fit after this token and eos
        candidates = self._candidates(row, state)
        if room >= grammar.longest:
            ids = list(candidates)
        else:
            ids = [i for i, nxt in candidates.items() if grammar.dist(nxt) <= room]
        if grammar.final(state):
            ids.append(self.vocab.eos_id)
        return ids

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        generated = input_ids[:, self.prompt_len :].tolist()
        mask = torch.full_like(scores, float("-inf"))
        for row, new in enumerate(generated):
            self._advance(row, new)
            if self.states[row] is None:
                mask[row] = 0
                continue
            ids = self.allowed_ids(row, len(new))
            if self.allowed_log is not None:
                self.allowed_log[row].append(ids)
            mask[row, ids] = 0
        return scores + mask


def constrained_bounds(grammars: Sequence[Grammar], bounds: Sequence[int]) -> list[int]:
    """Each bound raised, where needed, to the shortest complete response (bytes, one token each) plus eos."""
    return [max(b, g.dist(g.start()) + 1) for g, b in zip(grammars, bounds, strict=True)]
