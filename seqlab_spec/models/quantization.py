"""QLoRA loading arguments: 4-bit NF4 with double quantization, or 8-bit (bitsandbytes, CUDA only)."""

from __future__ import annotations

from typing import Any

from ..errors import ModelError
from ..spec.model import ModelSpec


def quantization_kwargs(model_spec: ModelSpec) -> dict[str, Any]:
    """Extra from_pretrained arguments for model.quantization (empty for `none`)."""
    if model_spec.quantization == "none":
        return {}
    import torch

    if not torch.cuda.is_available():
        raise ModelError(
            f"model.quantization: {model_spec.quantization!r} needs a CUDA GPU (bitsandbytes); set quantization: none"
        )
    try:
        import bitsandbytes  # noqa: F401
    except ImportError as e:
        raise ModelError("model.quantization needs bitsandbytes: pip install 'seqlab-spec[cuda]'") from e
    from transformers import BitsAndBytesConfig

    if model_spec.quantization == "8bit":
        cfg = BitsAndBytesConfig(load_in_8bit=True)
    else:
        compute = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        cfg = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=compute
        )
    return {"quantization_config": cfg, "device_map": {"": 0}}


def prepare_for_training(model, model_spec: ModelSpec, gradient_checkpointing: bool):
    """peft's k-bit preparation (fp32 norms, input grads) for a quantized base; a no-op otherwise."""
    if model_spec.quantization == "none":
        return model
    from peft import prepare_model_for_kbit_training

    return prepare_model_for_kbit_training(model, use_gradient_checkpointing=gradient_checkpointing)
