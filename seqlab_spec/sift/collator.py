"""Training examples for SIFT (one prompt per training sentence) and the batch collator.

`build_train_examples` renders every prompt once: demonstrations from the rest of the training
split (seeded), fitted into the token budget, tokenized, and masked by the loss strategy. The
collator only pads, so it works with transformers' Trainer as is (extra keys such as `n_demos`
are dropped by the Trainer's column removal or ignored here).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ..data.types import Sentence
from .demos import DemoSelector, Selection, fit_prompt
from .masks import IGNORE, Strategy, build_labels, encode
from .prompt import PromptConfig


def build_train_examples(
    train_sents: Sequence[Sentence],
    k: int,
    selection: Selection,
    cfg: PromptConfig,
    strategy: Strategy,
    tokenizer: Any,
    token_budget: int = 1024,
    seed: int = 0,
    selector: DemoSelector | None = None,
) -> list[dict[str, Any]]:
    """One example per training sentence: `input_ids`, `labels` (masked by `strategy`), `n_demos`.

    A `selector` passed in (to reuse its index or embeddings) must be built over `train_sents`.
    """
    selector = selector or DemoSelector(train_sents, selection, seed)
    if selector.pool is not train_sents:
        raise ValueError("the selector's pool is not train_sents: its indices would pick the wrong sentences")
    chosen = selector.select_many(range(len(train_sents)), k)
    examples = []
    for i, (query, picks) in enumerate(zip(train_sents, chosen, strict=True)):
        prompt = fit_prompt(
            query, [train_sents[j] for j in picks], cfg, tokenizer, token_budget, True, f"train sentence {i}"
        )
        encoded = encode(prompt, tokenizer)
        examples.append(
            {
                "input_ids": encoded.input_ids,
                "labels": build_labels(encoded, prompt, strategy),
                "n_demos": prompt.n_demos,
            }
        )
    return examples


@dataclass
class SiftCollator:
    """Right-pads `input_ids` (pad id), `labels` (-100) and builds `attention_mask`.

    `logits_where_loss`: also hand the model `logits_to_keep` (the positions whose next token carries loss
    in some row of the batch) and `shift_labels` (those next tokens, -100 where a row has none), so the LM
    head and the cross-entropy run only there. The loss is the same; under `src`/`mrc` most positions carry
    none, and the head (vocabulary x hidden per position) and its softmax are a large share of a small
    model's step. Needs a transformers causal LM (they take both keywords); a batch where every position
    carries loss (`vanilla`) is left as is.
    """

    pad_token_id: int
    pad_to_multiple_of: int | None = None
    logits_where_loss: bool = False

    def __call__(self, features: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
        longest = max(len(f["input_ids"]) for f in features)
        if self.pad_to_multiple_of:
            m = self.pad_to_multiple_of
            longest = (longest + m - 1) // m * m
        ids = torch.full((len(features), longest), self.pad_token_id, dtype=torch.long)
        labels = torch.full((len(features), longest), IGNORE, dtype=torch.long)
        mask = torch.zeros((len(features), longest), dtype=torch.long)
        for row, f in enumerate(features):
            n = len(f["input_ids"])
            if len(f["labels"]) != n:
                raise ValueError(f"example {row}: {len(f['labels'])} labels for {n} input ids")
            ids[row, :n] = torch.as_tensor(f["input_ids"])
            labels[row, :n] = torch.as_tensor(f["labels"])
            mask[row, :n] = 1
        batch = {"input_ids": ids, "attention_mask": mask, "labels": labels}
        if self.logits_where_loss:
            batch.update(_loss_positions_only(labels))
        return batch


def _loss_positions_only(labels: torch.Tensor) -> dict[str, torch.Tensor]:
    """`logits_to_keep` and `shift_labels` for the positions p whose token p+1 carries loss in some row."""
    shifted = labels[:, 1:]
    keep = (shifted != IGNORE).any(dim=0).nonzero().squeeze(-1)
    if len(keep) == shifted.shape[1]:
        return {}
    return {"logits_to_keep": keep, "shift_labels": shifted[:, keep].contiguous()}
