"""Optimisation settings (passed to transformers' Trainer)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Section

# The Trainer's `optim` names a spec may use; 8-bit ones need bitsandbytes on CUDA (checked by preflight).
Optimizer = Literal["adamw_torch_fused", "adamw_torch", "paged_adamw_8bit", "adamw_8bit", "paged_adamw_32bit"]
BITSANDBYTES_OPTIMIZERS = ("paged_adamw_8bit", "adamw_8bit", "paged_adamw_32bit")


class TrainSpec(Section):
    epochs: float = Field(3.0, gt=0, description="Training epochs.")
    max_steps: int = Field(-1, description="Stop after this many optimizer steps (-1: use epochs).")
    lr: float = Field(5e-5, gt=0, description="Peak learning rate.")
    batch_size: int = Field(32, ge=1, description="Sentences per device batch (unless `batch_tokens` is set).")
    batch_tokens: int | None = Field(
        None,
        ge=16,
        description="Batches of about N real subword tokens instead of `batch_size` sentences (for throughput): "
        "sentences sorted by length are cut into batches whose padded size (sentences x longest) stays <= N, so "
        "almost no padding is computed; the batches are fixed once and their order shuffled every epoch. The "
        "learning rate and its schedule are per optimizer step as given (not rescaled): the number of steps "
        "per epoch changes with N and is printed at the start of training.",
    )
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
    optim: Optimizer = Field(
        "adamw_torch_fused",
        description="The Trainer's `optim`: `adamw_torch_fused` (its default), `adamw_torch`, or the 8-bit "
        "`paged_adamw_8bit` / `adamw_8bit` of QLoRA (bitsandbytes, CUDA only).",
    )
    lr_scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] = Field(
        "linear",
        description="The Trainer's `lr_scheduler_type`: the learning rate after warm-up, over all steps "
        "(`train.max_steps`, else every epoch).",
    )
    adam_beta1: float = Field(0.9, ge=0.0, lt=1.0, description="AdamW beta1 (the Trainer's `adam_beta1`).")
    adam_beta2: float = Field(0.999, ge=0.0, lt=1.0, description="AdamW beta2 (the Trainer's `adam_beta2`).")
    adam_epsilon: float = Field(1e-8, gt=0.0, description="AdamW epsilon (the Trainer's `adam_epsilon`).")
    weight_decay: float = Field(
        0.0,
        ge=0.0,
        description="AdamW weight decay, on every trained weight except biases and norms (LayerNorm, RMSNorm: "
        "see seqlab_spec.training.train.decay_parameter_names).",
    )
    batch_order: Literal["bucketed", "length", "random"] = Field(
        "bucketed",
        description="Training batch order. `bucketed`: sentences of similar length batched together, the batches "
        "shuffled (little padding, the F1 of random order); `length`: the Trainer's group_by_length (pools of 50 "
        "batches walked from long to short); `random`: random batches (the plain recipe; the most padding).",
    )
    gradient_checkpointing: bool = Field(False, description="Trade compute for memory.")
    eval_every: Literal["epoch", "never"] = Field(
        "epoch", description="When to evaluate on dev during training."
    )
    select_best: bool = Field(True, description="Keep the checkpoint with the best dev F1.")
    logging_steps: int = Field(10, ge=1, description="Log the loss every N steps.")
    dataloader_workers: int = Field(
        0,
        ge=0,
        description="Processes that collate batches beside the training loop (0: the main process; on a "
        "2-core CPU one worker measured no faster, see BENCHMARKS.md; on a GPU not measured yet).",
    )
    pin_memory: bool = Field(True, description="Page-locked batches for faster host-to-GPU copies (GPU only).")
    torch_compile: bool = Field(
        False, description="Compile the model with torch.compile (the Trainer's switch; first steps are slower)."
    )
    use_liger_kernel: bool = Field(
        False,
        description="Liger's fused RMSNorm/SwiGLU/RoPE kernels for Llama-family models (the Trainer's switch; "
        "GPU only, needs the liger-kernel package).",
    )
    save_every_steps: int | None = Field(
        None,
        ge=1,
        description="Also checkpoint every N optimizer steps (a checkpoint is always written at each epoch end), "
        "so `seqlab-spec run --resume RUN_DIR` after an interruption repeats at most N steps. Checkpoints live "
        "in RUN_DIR/checkpoints and are removed when training ends; the results do not depend on this value.",
    )
