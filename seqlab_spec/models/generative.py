"""The causal LM behind SIFT: full fine-tuning, LoRA, or QLoRA (4-bit NF4 base + LoRA; 8-bit also works).

QLoRA follows Dettmers et al. (2023): NF4 weights with double quantization, matmuls in bf16 (fp16 on GPUs
without bf16), `prepare_model_for_kbit_training` (norms in fp32, input grads for checkpointing), then
LoRA adapters. bitsandbytes is imported only when quantization is asked for: it needs CUDA and is not a
CPU dependency (the Spec validator already refuses quantization on a machine without CUDA).

A saved model is a plain transformers/peft folder: the adapter (`save_pretrained`) or the whole model,
and the tokenizer. Reloading an adapter loads the base through the spec again (the same alias, path or
hub id, the same quantization), so a run folder stays small.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import torch

from ..errors import ModelError, NotAvailableError
from ..precision import resolve_precision
from ..spec.model import ModelSpec
from .encoder import lora_config
from .registry import ResolvedModel, from_pretrained, load_tokenizer, model_kind, resolve

ADAPTER_CONFIG = "adapter_config.json"


def _compute_dtype(precision: str) -> torch.dtype:
    """The matmul dtype of a quantized or half-precision base: bf16 where supported, else fp16."""
    return torch.float16 if precision == "fp16" else torch.bfloat16


def quantization_config(quantization: str, precision: str = "auto") -> Any:
    """BitsAndBytesConfig for `4bit` (NF4, double quantization) or `8bit` (LLM.int8); None for `none`.

    Needs CUDA and bitsandbytes (a NotAvailableError that says how to get them otherwise).
    """
    if quantization == "none":
        return None
    if not torch.cuda.is_available():
        raise NotAvailableError(
            f"model.quantization: {quantization!r} needs a CUDA GPU (bitsandbytes); this machine has none: "
            "set model.quantization: none (LoRA still works on CPU)"
        )
    if importlib.util.find_spec("bitsandbytes") is None:
        raise NotAvailableError(
            f"model.quantization: {quantization!r} needs bitsandbytes: pip install 'seqlab-spec[cuda]' "
            "(bitsandbytes==0.50.2), or set model.quantization: none"
        )
    from transformers import BitsAndBytesConfig

    if quantization == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    if quantization == "4bit":
        return BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=_compute_dtype(resolve_precision(precision)),
        )
    raise ValueError(f"unknown quantization {quantization!r}; use none, 8bit or 4bit")


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
    quant = quantization_config(model_spec.quantization, precision)
    resolved_precision = resolve_precision(precision)
    if quant is not None:
        kwargs["quantization_config"] = quant
        kwargs["device_map"] = {"": torch.cuda.current_device()}
        kwargs["dtype"] = _compute_dtype(resolved_precision)
    elif torch.cuda.is_available() and model_spec.peft.method == "lora" and resolved_precision in ("bf16", "fp16"):
        kwargs["dtype"] = _compute_dtype(resolved_precision)
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
