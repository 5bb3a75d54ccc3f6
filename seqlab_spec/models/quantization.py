"""QLoRA loading: 4-bit NF4 with double quantization, or 8-bit (bitsandbytes, CUDA only).

QLoRA follows Dettmers et al. (2023): NF4 weights with double quantization, matmuls in bf16 (fp16 on GPUs
without bf16), `prepare_model_for_kbit_training` (norms in fp32, input grads for checkpointing), then LoRA
adapters. bitsandbytes is imported only when quantization is asked for: it needs CUDA and is not a CPU
dependency (machine.hardware_problems, run by preflight, already refuses quantization without CUDA).
"""

from __future__ import annotations

from typing import Any

import torch

from ..machine import quantization_problems, require
from ..spec.model import ModelSpec
from ..training.precision import resolve_precision


def compute_dtype(precision: str) -> torch.dtype:
    """The matmul dtype of a quantized or half-precision base: fp16 where asked for (GPUs without bf16), else bf16."""
    return torch.float16 if resolve_precision(precision) == "fp16" else torch.bfloat16


def quantization_config(quantization: str, precision: str = "auto") -> Any:
    """BitsAndBytesConfig for `4bit` (NF4, double quantization) or `8bit` (LLM.int8); None for `none`."""
    if quantization == "none":
        return None
    require(quantization_problems(quantization))  # preflight asked already; a notebook may not have
    from transformers import BitsAndBytesConfig

    if quantization == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    if quantization == "4bit":
        return BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=compute_dtype(precision),
        )
    raise ValueError(f"unknown quantization {quantization!r}; use none, 8bit or 4bit")


def quantization_kwargs(model_spec: ModelSpec, precision: str = "auto") -> dict[str, Any]:
    """Extra from_pretrained arguments for model.quantization: the config, on this process's GPU ({} for none)."""
    config = quantization_config(model_spec.quantization, precision)
    if config is None:
        return {}
    return {"quantization_config": config, "device_map": {"": torch.cuda.current_device()}}


def prepare_for_training(model, model_spec: ModelSpec, gradient_checkpointing: bool):
    """peft's k-bit preparation (fp32 norms, input grads) for a quantized base; a no-op otherwise."""
    if model_spec.quantization == "none":
        return model
    from peft import prepare_model_for_kbit_training

    return prepare_model_for_kbit_training(model, use_gradient_checkpointing=gradient_checkpointing)
