"""The four methods, one discriminated union keyed by `name`."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator

from .base import Section

PATTERN = re.compile(r"^[01]+$")


class EncoderMethod(Section):
    name: Literal["encoder"] = Field(
        "encoder", description="Token classification on an encoder (the baseline)."
    )


class UnmaskMethod(Section):
    name: Literal["unmask"] = Field(
        description="Decoder LLM as a tagger with layer-group causal-mask removal."
    )
    unmask: str | list[str] = Field(
        "0000",
        description="Layer-group pattern: G characters of 0/1, the layers split into G contiguous groups; "
        "1 = that group attends both ways. A list of patterns, or `all` (every 2^G pattern of length "
        "`groups`), makes a sweep.",
    )
    groups: int = Field(4, ge=1, le=12, description="Pattern length used by `unmask: all`.")
    head_dropout: float = Field(0.1, ge=0.0, lt=1.0, description="Dropout before the linear tagging head.")

    @field_validator("unmask")
    @classmethod
    def _check_pattern(cls, v: str | list[str]) -> str | list[str]:
        items = [v] if isinstance(v, str) else v
        if isinstance(v, list) and not v:
            raise ValueError("an empty list of patterns; give at least one, e.g. ['0000', '0110']")
        for p in items:
            if p == "all" and isinstance(v, str):
                continue
            if not PATTERN.match(p):
                raise ValueError(f"pattern {p!r} must be a string of 0 and 1 (e.g. '0110'), or 'all'")
        return v


class SiftMethod(Section):
    name: Literal["sift"] = Field(
        description="Supervised in-context fine-tuning: generate the labeled spans."
    )
    k: int = Field(3, ge=0, description="Demonstrations per prompt.")
    selection: Literal["random", "bm25", "embedding"] = Field(
        "random",
        description="How demonstrations are chosen from the training split (never the query itself).",
    )
    instruction: bool = Field(
        True, description="Start the prompt with an instruction naming the task and labels."
    )
    response_format: Literal["lines", "inline"] = Field(
        "lines",
        description="`lines`: one `span :: LABEL` per line; `inline`: the sentence with [span|LABEL] tags.",
    )
    none_word: str = Field("none", description="The response when a sentence has no span (lines format).")
    token_budget: int = Field(
        1024, ge=32, description="Max prompt tokens; demonstrations are dropped before the query is ever cut."
    )
    chat_template: Literal["auto", "on", "off"] = Field(
        "off", description="Wrap the prompt in the tokenizer's chat template (`auto`: when it has one)."
    )
    max_new_tokens: int | None = Field(
        None, ge=1, description="Generation bound; by default derived from the query's length."
    )
    decoding: Literal["free", "constrained"] = Field(
        "free",
        description="`constrained`: only tokens that keep the answer a valid response for the query (span words "
        "of the sentence at an unused position, known labels); `free`: plain greedy decoding.",
    )


class OieMultitaskMethod(Section):
    name: Literal["oie-multitask"] = Field(description="Event triggers coupled with OIE relation tags.")
    injection: Literal["none", "implicit", "explicit"] = Field(
        "explicit",
        description="`none`: the vanilla model; `implicit`: relation-tag embeddings as input features; "
        "`explicit`: a second head predicting relation tags.",
    )
    regime: Literal["in-domain", "zero-shot", "few-shot", "joint"] = Field(
        "zero-shot", description="Transfer regime between `data` (source) and `data.target`."
    )
    k: list[int] = Field(
        default_factory=lambda: [10, 50, 100], description="Target sentences for few-shot/joint."
    )
    n_samples: int = Field(3, ge=1, description="Seeded samples per k (mean ± std).")
    tag_dim: int = Field(32, ge=1, description="Size of the relation-tag embedding (implicit).")
    mlm: bool = Field(False, description="Interleave a masked-LM pass over unlabeled target text (encoders).")
    base: Literal["encoder", "unmask"] = Field(
        "encoder", description="Shared model: an encoder or an unmasked decoder."
    )
    unmask: str = Field("1111", description="Unmask pattern when `base: unmask`.")


Method = Annotated[
    EncoderMethod | UnmaskMethod | SiftMethod | OieMultitaskMethod, Field(discriminator="name")
]
METHOD_NAMES = ("encoder", "unmask", "sift", "oie-multitask")
