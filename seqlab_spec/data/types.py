"""The one record every reader returns and every later step consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Sentence:
    """Words and one tag per word. Inside the library tags are BIO (IOB2).

    `meta` says where the sentence came from so later errors can name it: `file`, `line` (1-based, the
    sentence's first line; for `hf` the row number) and `format` (in a CoNLL file word i sits on line + i).
    """

    tokens: list[str]
    tags: list[str]
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.tokens)

    def where(self, i: int = 0) -> str:
        """`file:line` of word i (the sentence's line where words do not have lines of their own)."""
        file = self.meta.get("file", "<memory>")
        line = self.meta.get("line")
        if line is None:
            return str(file)
        if self.meta.get("format") == "conll":
            line += i
        return f"{file}:{line}"
