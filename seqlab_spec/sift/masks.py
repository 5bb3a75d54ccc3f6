"""Response loss masks: which tokens of a prompt carry the training loss.

- `vanilla`: every token (the plain causal LM loss; padding is masked by the collator).
- `src`: only the query's response, its end-of-response token included.
- `mrc`: every demonstration's response and the query's, each end-of-response token included.

Masks come from character ranges (`Prompt.pieces`) through the fast tokenizer's `offset_mapping`, so
they hold for any tokenizer: a token carries loss when its characters overlap a response range.
Labels are the input ids themselves (the model shifts them); -100 marks tokens without loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import ModelError
from .prompt import Prompt

Strategy = Literal["vanilla", "src", "mrc"]
STRATEGIES: tuple[str, ...] = ("vanilla", "src", "mrc")
IGNORE = -100


@dataclass(frozen=True)
class Encoded:
    input_ids: list[int]
    offsets: list[tuple[int, int]]


def encode(prompt: Prompt, tokenizer: Any, with_response: bool = True) -> Encoded:
    """Token ids and character offsets of the prompt (the generation prefix when not `with_response`).

    Special tokens (BOS) are added for the plain template; a chat template writes its own.
    """
    if not getattr(tokenizer, "is_fast", False):
        raise ModelError(
            f"tokenizer {getattr(tokenizer, 'name_or_path', '?')!r} is a slow (Python) tokenizer; sift needs "
            "a fast one for character offsets: load it with AutoTokenizer.from_pretrained(..., use_fast=True)"
        )
    text = prompt.text if with_response else prompt.generation_prompt
    enc = tokenizer(text, add_special_tokens=not prompt.chat, return_offsets_mapping=True)
    return Encoded(list(enc["input_ids"]), [(int(s), int(e)) for s, e in enc["offset_mapping"]])


def loss_ranges(prompt: Prompt, strategy: Strategy) -> list[tuple[int, int]]:
    """The character ranges whose tokens carry loss under `src` or `mrc`."""
    if strategy == "src":
        return [prompt.query_response]
    if strategy == "mrc":
        return [*prompt.demo_responses, prompt.query_response]
    raise ValueError(f"strategy {strategy!r} has no ranges; use one of {STRATEGIES}")


def _inside(start: int, end: int, ranges: Sequence[tuple[int, int]]) -> bool:
    for lo, hi in ranges:
        if start == end:  # zero-width token (e.g. a BOS the post-processor added): only strictly inside
            if lo < start < hi:
                return True
        elif start < hi and end > lo:
            return True
    return False


def loss_positions(encoded: Encoded, prompt: Prompt, strategy: Strategy) -> list[int]:
    """Indices of the tokens that carry loss."""
    if strategy == "vanilla":
        return list(range(len(encoded.input_ids)))
    ranges = loss_ranges(prompt, strategy)
    return [i for i, (s, e) in enumerate(encoded.offsets) if _inside(s, e, ranges)]


def build_labels(encoded: Encoded, prompt: Prompt, strategy: Strategy) -> list[int]:
    """Labels for a causal LM: the token id where it carries loss, -100 elsewhere."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown loss strategy {strategy!r}; use one of {STRATEGIES}")
    keep = set(loss_positions(encoded, prompt, strategy))
    return [t if i in keep else IGNORE for i, t in enumerate(encoded.input_ids)]
