"""Which tokens carry the training loss."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Section


class LossSpec(Section):
    strategy: Literal["auto", "token-ce", "vanilla", "src", "mrc"] = Field(
        "auto",
        description="`token-ce`: cross-entropy on first subwords (taggers). For sift: `vanilla` = causal LM "
        "loss on every token, `src` = only the query's response, `mrc` = every demonstration's response "
        "and the query's. `auto`: token-ce for taggers, mrc for sift.",
    )
