"""What is evaluated after training, and which reading of the predictions is the headline."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Section


class EvalSpec(Section):
    splits: list[Literal["dev", "test"]] | None = Field(
        None,
        description="Splits evaluated after training. Unset: every dev and test split the data has; a split "
        "listed here must be in the data (checked by `validate` and before a run).",
    )
    mode: Literal["strict", "conlleval"] = Field(
        "strict",
        description="Headline span F1: `strict` = seqeval mode='strict', scheme=IOB2 on the raw predicted tags "
        "(the thesis's metric; an I-X that continues no span opens none); `conlleval` = seqeval's default mode "
        "(such an I-X opens a span). metrics.json holds both readings either way.",
    )
    batch_size: int = Field(64, ge=1, description="Sentences per inference batch (sorted by length).")
    show: int = Field(3, ge=0, description="Predicted sentences printed at the end.")
