"""Optimisation settings (passed to transformers' Trainer)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Section


class TrainSpec(Section):
    epochs: float = Field(3.0, gt=0, description="Training epochs.")
    max_steps: int = Field(-1, description="Stop after this many optimizer steps (-1: use epochs).")
    lr: float = Field(5e-5, gt=0, description="Peak learning rate.")
    batch_size: int = Field(32, ge=1, description="Sentences per device batch.")
    grad_accum: int = Field(1, ge=1, description="Gradient accumulation steps.")
    max_length: int = Field(
        128,
        ge=8,
        description="Max subword tokens per sentence (longer ones are cut; "
        "cut words are evaluated as O, with a warning).",
    )
    seed: int = Field(42, description="Seed of initialisation, shuffling and dropout.")
    precision: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        "auto",
        description="`auto`: bf16 autocast where the CPU/GPU supports it, fp16 on older GPUs, else fp32.",
    )
    warmup_ratio: float = Field(0.0, ge=0.0, lt=1.0, description="Linear warm-up fraction.")
    weight_decay: float = Field(0.0, ge=0.0, description="AdamW weight decay.")
    group_by_length: bool = Field(True, description="Batch sentences of similar length (less padding).")
    gradient_checkpointing: bool = Field(False, description="Trade compute for memory.")
    eval_every: Literal["epoch", "never"] = Field(
        "epoch", description="When to evaluate on dev during training."
    )
    select_best: bool = Field(True, description="Keep the checkpoint with the best dev F1.")
    logging_steps: int = Field(10, ge=1, description="Log the loss every N steps.")
    save_every_steps: int | None = Field(
        None,
        ge=1,
        description="Also checkpoint every N optimizer steps (a checkpoint is always written at each epoch end), "
        "so `seqlab-spec run --resume RUN_DIR` after an interruption repeats at most N steps. Checkpoints live "
        "in RUN_DIR/checkpoints and are removed when training ends; the results do not depend on this value.",
    )
