"""Words -> subword ids with a word index per subword, for any fast tokenizer.

`is_split_into_words=True` drops the leading space a byte-level BPE (GPT-2, Llama-3, SmolLM2) puts on every
word after the first, so the decoder would see "German" spelled as it never is in running text. We tokenize
the words joined by single spaces instead and map subwords back to words through character offsets: the same
code serves WordPiece encoders and BPE decoders.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Encoded:
    input_ids: list[int]
    word_ids: list[int | None]  # word index of each subword; None for special tokens and bare spaces
    no_subword: tuple[int, ...] = ()  # words the tokenizer turns into nothing (even without truncation)

    @property
    def truncated(self) -> int:
        """Words cut by max_length (they have subwords, but none fit)."""
        kept = {w for w in self.word_ids if w is not None}
        return self.n_words - len(kept) - len(self.no_subword)

    n_words: int = 0

    @property
    def n_words_kept(self) -> int:
        return 1 + max((w for w in self.word_ids if w is not None), default=-1)


def _char_to_word(words: list[str]) -> list[int]:
    """Word index of each character of ' '.join(words); a separating space belongs to the next word."""
    owner: list[int] = []
    for i, w in enumerate(words):
        if i:
            owner.append(i)
        owner.extend([i] * len(w))
    return owner


_SPACE_MARKS = "\u2581\u0120 "  # SentencePiece's "▁", byte-level BPE's "Ġ", a plain space


def _word_ids(text: str, owner: list[int], offsets, pieces: list[str]) -> list[int | None]:
    """The word of each subword: the owner of its first non-space character. A subword that is only a space
    marker (byte-level BPE's bare "Ġ", SentencePiece's lone "▁", whose offsets may point at the next word's
    first character) or covers nothing (special tokens) belongs to no word: were it given to a word, that
    word's label would sit where, under causal attention, the word has not been seen yet."""
    out: list[int | None] = []
    for (s, e), piece in zip(offsets, pieces, strict=True):
        while s < e and text[s] == " ":  # BPE "Ġword" offsets may include the separating space
            s += 1
        blank = not piece.strip(_SPACE_MARKS)
        out.append(owner[s] if s < e and s < len(owner) and not blank else None)
    return out


def encode_words(tokenizer, words: list[str], max_length: int, add_special_tokens: bool = True) -> Encoded:
    """Tokenize one pre-tokenized sentence, truncated to max_length subwords.

    Words without a subword are told apart: those the tokenizer drops whole (zero-width characters, a
    soft hyphen, DEL: `no_subword`) and those max_length cut (`truncated`)."""
    text = " ".join(words)
    enc = tokenizer(
        text,
        return_offsets_mapping=True,
        add_special_tokens=add_special_tokens,
        truncation=True,
        max_length=max_length,
    )
    owner = _char_to_word(words)
    pieces = tokenizer.convert_ids_to_tokens(enc["input_ids"])
    word_ids = _word_ids(text, owner, enc["offset_mapping"], pieces)
    kept = {w for w in word_ids if w is not None}
    no_subword: tuple[int, ...] = ()
    if len(kept) < len(words):  # rare: find which missing words the tokenizer drops even uncut
        full = tokenizer(text, return_offsets_mapping=True, add_special_tokens=False)
        full_pieces = tokenizer.convert_ids_to_tokens(full["input_ids"])
        seen = {w for w in _word_ids(text, owner, full["offset_mapping"], full_pieces) if w is not None}
        no_subword = tuple(i for i in range(len(words)) if i not in seen)
    return Encoded(list(enc["input_ids"]), word_ids, no_subword, len(words))
