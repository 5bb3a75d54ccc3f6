"""What is evaluated after training."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Section


class EvalSpec(Section):
    splits: list[Literal["dev", "test"]] = Field(
        default_factory=lambda: ["dev", "test"], description="Splits evaluated after training."
    )
    batch_size: int = Field(64, ge=1, description="Sentences per inference batch (sorted by length).")
    show: int = Field(3, ge=0, description="Predicted sentences printed at the end.")
