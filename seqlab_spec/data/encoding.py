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
    word_ids: list[int | None]  # word index of each subword; None for special tokens

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


def encode_words(tokenizer, words: list[str], max_length: int, add_special_tokens: bool = True) -> Encoded:
    """Tokenize one pre-tokenized sentence, truncated to max_length subwords."""
    text = " ".join(words)
    enc = tokenizer(
        text,
        return_offsets_mapping=True,
        add_special_tokens=add_special_tokens,
        truncation=True,
        max_length=max_length,
    )
    owner = _char_to_word(words)
    special = set(tokenizer.all_special_ids)
    word_ids: list[int | None] = []
    for tid, (s, e) in zip(enc["input_ids"], enc["offset_mapping"], strict=True):
        if e <= s or (tid in special and add_special_tokens and s == e):
            word_ids.append(None)
            continue
        # skip leading spaces inside the token's span (BPE "Ġword" offsets may include the space)
        while s < e and text[s] == " ":
            s += 1
        word_ids.append(owner[s] if s < len(owner) else None)
    return Encoded(list(enc["input_ids"]), word_ids)
