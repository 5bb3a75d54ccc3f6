"""The causal LM behind SIFT: full fine-tuning, LoRA, or QLoRA (4-bit NF4 base + LoRA, see quantization.py;
8-bit also works).

A saved model is a plain transformers/peft folder: the adapter (`save_pretrained`) or the whole model,
and the tokenizer. Reloading an adapter loads the base through the spec again (the same alias, path or
hub id, the same quantization), so a run folder stays small.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..errors import ModelError
from ..spec.model import ModelSpec
from ..training.precision import resolve_precision
from .encoder import lora_config
from .quantization import compute_dtype, quantization_kwargs
from .registry import ResolvedModel, from_pretrained, load_tokenizer, model_kind, resolve

ADAPTER_CONFIG = "adapter_config.json"


def _load_base(model_spec: ModelSpec, precision: str) -> tuple[torch.nn.Module, ResolvedModel]:
    """The base causal LM. On CPU (and for full fine-tuning) fp32 weights: the Trainer's bf16 autocast
    does the fast matmuls and the optimizer keeps fp32. A LoRA base on CUDA loads in the half dtype."""
    from transformers import AutoModelForCausalLM

    resolved = resolve(model_spec.name)
    if resolved.local and model_kind(resolved) != "decoder":
        raise ModelError(
            f"model.name: {model_spec.name!r} is not a causal LM (its config names no *ForCausalLM "
            "architecture); method sift generates text: use smollm2-135m or a decoder hub id/path"
        )
    kwargs: dict[str, Any] = {"revision": model_spec.revision, "trust_remote_code": model_spec.trust_remote_code}
    if model_spec.attn_implementation != "auto":
        kwargs["attn_implementation"] = model_spec.attn_implementation
    quant = quantization_kwargs(model_spec, precision)
    if quant:
        kwargs |= quant | {"dtype": compute_dtype(precision)}
    elif torch.cuda.is_available() and model_spec.peft.method == "lora" and resolve_precision(precision) != "fp32":
        kwargs["dtype"] = compute_dtype(precision)
    else:
        kwargs["dtype"] = torch.float32
    model = from_pretrained(AutoModelForCausalLM.from_pretrained, resolved, **kwargs)
    return model, resolved


def build_causal_lm(
    model_spec: ModelSpec, precision: str = "auto", gradient_checkpointing: bool = False
) -> tuple[torch.nn.Module, Any, ResolvedModel]:
    """(model ready to train, tokenizer with a pad token, where it came from): LoRA/QLoRA per the spec."""
    model, resolved = _load_base(model_spec, precision)
    tokenizer = load_tokenizer(resolved)
    if model_spec.quantization != "none":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=gradient_checkpointing)
    elif gradient_checkpointing and model_spec.peft.method == "lora":
        model.enable_input_require_grads()  # frozen embeddings: checkpointed blocks need a grad-carrying input
    if model_spec.peft.method == "lora":
        from peft import get_peft_model

        model = get_peft_model(model, lora_config(model_spec.peft, "CAUSAL_LM"))
    elif model_spec.quantization != "none":
        raise ModelError(
            f"model.quantization: {model_spec.quantization!r} freezes the base weights; train adapters on it "
            "with model.peft.method: lora (QLoRA)"
        )
    model.config.use_cache = False  # training; generate() turns the cache on per call
    return model, tokenizer, resolved


def save_causal_lm(model: torch.nn.Module, tokenizer: Any, dest: Path) -> None:
    """The adapter alone for a LoRA model (megabytes, not the base's gigabytes), else the whole model."""
    model.save_pretrained(dest)
    tokenizer.save_pretrained(dest)


def load_causal_lm(model_dir: Path, model_spec: ModelSpec, precision: str = "auto") -> tuple[torch.nn.Module, Any]:
    """(model in eval mode, tokenizer) from a folder written by `save_causal_lm`."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model_dir = Path(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if (model_dir / ADAPTER_CONFIG).exists():
        from peft import PeftModel

        base, _ = _load_base(model_spec, precision)
        model = PeftModel.from_pretrained(base, model_dir)
    else:
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    if model_spec.quantization == "none":  # a quantized base is already placed by its device_map
        model.to("cuda" if torch.cuda.is_available() else "cpu")
    return model.eval(), tokenizer
