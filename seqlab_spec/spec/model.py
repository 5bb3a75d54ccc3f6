"""Which pre-trained model, and how it is adapted (full fine-tuning, LoRA, QLoRA)."""

from __future__ import annotations

import difflib
import os
from typing import Literal

from pydantic import Field, field_validator

from ..models.aliases import ALIASES
from .base import Section


class PeftSpec(Section):
    method: Literal["none", "lora"] = Field(
        "none", description="`none`: full fine-tuning; `lora`: LoRA adapters (peft)."
    )
    r: int = Field(16, ge=1, description="LoRA rank.")
    alpha: int = Field(32, ge=1, description="LoRA alpha (scaling = alpha / r).")
    dropout: float = Field(0.1, ge=0.0, lt=1.0, description="LoRA dropout.")
    target_modules: Literal["all-linear"] | list[str] = Field(
        "all-linear", description="Modules that get adapters: `all-linear` or names such as [q_proj, v_proj]."
    )


class ModelSpec(Section):
    name: str = Field(
        "minilm-l6",
        description="Built-in alias (minilm-l6, smollm2-135m), a Hugging Face hub id, or a local folder "
        "(relative to the spec's folder).",
    )
    revision: str | None = Field(None, description="Hub revision (branch, tag or commit).")
    peft: PeftSpec = Field(default_factory=PeftSpec, description="Parameter-efficient fine-tuning.")
    quantization: Literal["none", "8bit", "4bit"] = Field(
        "none", description="Load the base weights in 8-bit or 4-bit NF4 (QLoRA; bitsandbytes, CUDA only)."
    )
    attn_implementation: Literal["auto", "eager", "sdpa", "flash_attention_2"] = Field(
        "auto", description="Attention kernel; `auto` lets transformers pick (SDPA where available)."
    )
    trust_remote_code: bool = Field(False, description="Allow model code from the hub (off by default).")

    @field_validator("name")
    @classmethod
    def _known_alias(cls, v: str) -> str:
        """A bare word that is neither an alias nor an existing folder is almost always a typo'd alias:
        say so now instead of failing later on a hub that cannot be reached."""
        if v in ALIASES or "/" in v or "\\" in v or _exists(v):
            return v
        known = ", ".join(ALIASES)
        close = difflib.get_close_matches(v, list(ALIASES), n=1, cutoff=0.5)
        hint = f" — did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"unknown model alias {v!r}{hint} (built-in aliases: {known}; a hub model is owner/name "
            "such as google-bert/bert-base-cased, a local model a path to an existing folder)"
        )


def _exists(path: str) -> bool:
    try:
        return os.path.exists(path)
    except (OSError, ValueError):  # e.g. an embedded NUL byte
        return False
