"""Where the sentences come from and how much of them to use."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Section


class Columns(Section):
    token: int = Field(
        0, description="Column index of the word in a CoNLL-style file (negative counts from the end)."
    )
    label: int = Field(-1, description="Column index of the label (negative counts from the end).")
    separator: Literal["whitespace", "tab"] = Field(
        "whitespace", description="How columns are split: any run of whitespace, or single tabs."
    )


class HFSource(Section):
    name: str = Field(..., description="Hugging Face dataset name or local path (load_dataset argument).")
    config: str | None = Field(None, description="Dataset configuration name.")
    tokens_field: str = Field("tokens", description="Field holding the list of words.")
    tags_field: str = Field("ner_tags", description="Field holding the labels (strings or class ids).")
    splits: dict[str, str] = Field(
        default_factory=lambda: {"train": "train", "dev": "validation", "test": "test"},
        description="Map from seqlab split (train/dev/test) to the dataset's split name.",
    )


class Limits(Section):
    train: int | None = Field(
        None, ge=1, description="Use at most this many training sentences (the first N)."
    )
    dev: int | None = Field(None, ge=1, description="Use at most this many dev sentences.")
    test: int | None = Field(None, ge=1, description="Use at most this many test sentences.")


class FewShot(Section):
    k: int = Field(..., ge=1, description="Sentences per sample.")
    n: int = Field(1, ge=1, description="Number of seeded samples (one run each).")
    require_span: bool = Field(True, description="Only draw sentences that hold at least one span.")
    seed: int = Field(13, description="Seed of the sampler (sample i uses seed + i).")
    sample: int = Field(0, ge=0, description="Which of the n samples this run trains on (set by the runner).")


class Splits(Section):
    """One domain's files (the target domain of a transfer experiment)."""

    format: Literal["conll", "jsonl", "hf", "ace", "maven"] | None = Field(
        None, description="Reader; defaults to the source data's format."
    )
    train: str | None = Field(None, description="Training file.")
    dev: str | None = Field(None, description="Dev file.")
    test: str | None = Field(None, description="Test file.")
    columns: Columns | None = Field(None, description="Columns; defaults to the source data's.")
    limit: Limits = Field(default_factory=Limits, description="Per-split sentence limits.")
    unlabeled: str | None = Field(
        None, description="Unlabeled target-domain text (one sentence a line) for MLM."
    )


class DataSpec(Section):
    format: Literal["conll", "jsonl", "hf", "ace", "maven"] = Field(
        "conll",
        description="Reader: CoNLL-style columns, JSONL ({tokens, tags}), Hugging Face datasets, "
        "ACE 2005 processed JSON, MAVEN jsonl.",
    )
    train: str | None = Field(
        None,
        description="Training file (relative paths resolve against the spec's folder; "
        "`pkg:` paths against the bundled datasets).",
    )
    dev: str | None = Field(None, description="Dev file.")
    test: str | None = Field(None, description="Test file.")
    columns: Columns = Field(
        default_factory=Columns, description="Token and label columns of CoNLL-style files."
    )
    hf: HFSource | None = Field(None, description="Hugging Face dataset, for `format: hf`.")
    limit: Limits = Field(default_factory=Limits, description="Per-split sentence limits for quick runs.")
    few_shot: FewShot | None = Field(
        None, description="Train on k sampled sentences instead of the whole train split."
    )
    target: Splits | None = Field(None, description="Target domain of a transfer experiment (oie-multitask).")
    encoding: str = Field("utf-8", description="Text encoding of the files.")
