"""What is being labeled."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from .base import Section

Scheme = Literal["bio", "iob1", "iobes"]


class TaskSpec(Section):
    type: Literal["ner", "chunking", "trigger", "aspect", "pos", "other"] = Field(
        "ner", description="Kind of sequence labeling; `trigger` is event trigger detection."
    )
    scheme: Scheme = Field(
        "bio",
        description="Label scheme of the data files (IOB1, BIO/IOB2 or IOBES). Converted to BIO inside; "
        "outputs are written in this scheme.",
    )
    labels: list[str] | None = Field(
        None,
        description="Span types expected (e.g. [PER, LOC]). When set, a type in the data that is not "
        "listed is an error; when unset, the types found in the training split are used.",
    )

    @field_validator("labels")
    @classmethod
    def _no_o_type(cls, v: list[str] | None) -> list[str] | None:
        bad = [t for t in v or () if t == "O" or t[:2] in ("B-", "I-")]
        if bad:
            raise ValueError(
                f"{bad[0]!r} is not a span type: list types without B-/I- and without O (e.g. [PER, LOC])"
            )
        return v
