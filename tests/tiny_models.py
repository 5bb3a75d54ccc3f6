"""Tiny random decoder LLMs built from configs (no hub): Llama, Mistral, Qwen2, Gemma2, Gemma3-text.

Shared by the tests of every method that needs a decoder. The models are small (4 layers, hidden 32,
vocab 64) so a forward takes milliseconds on CPU, and seeded so two calls with the same arguments give
the same weights. `initializer_range` is raised to 0.2 (from 0.02) so that a change of one token moves
the other positions' hidden states by far more than float noise: leak tests need a strong signal.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from transformers import (
    AutoModel,
    AutoModelForCausalLM,
    Gemma2Config,
    Gemma3TextConfig,
    LlamaConfig,
    MistralConfig,
    PretrainedConfig,
    PreTrainedModel,
    Qwen2Config,
)

ARCHS: list[str] = ["llama", "mistral", "qwen2", "gemma2", "gemma3"]
# The attention kernels transformers accepts for each arch (Gemma2: `_supports_sdpa = False`,
# SDPA cannot soft-cap logits), and the (arch, kernel) pairs tests parametrize over.
ATTN_IMPLS: dict[str, tuple[str, ...]] = {
    "llama": ("eager", "sdpa"),
    "mistral": ("eager", "sdpa"),
    "qwen2": ("eager", "sdpa"),
    "gemma2": ("eager",),
    "gemma3": ("eager", "sdpa"),
}
ARCH_ATTN: list[tuple[str, str]] = [(a, impl) for a in ARCHS for impl in ATTN_IMPLS[a]]
VOCAB_SIZE = 64
PAD_ID = 0

_COMMON: dict[str, Any] = {
    "vocab_size": VOCAB_SIZE,
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,  # grouped-query attention, as in the real models
    "head_dim": 8,
    "max_position_embeddings": 128,
    "initializer_range": 0.2,
    "pad_token_id": PAD_ID,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "tie_word_embeddings": False,
}

# Per-arch defaults. Sliding windows are large (no effect at test lengths) unless a test overrides
# `sliding_window`. Gemma2 keeps its attention/final logit soft-capping (transformers supports it only
# under eager attention, which is why Gemma2 has no sdpa entry in ATTN_IMPLS).
_ARCH: dict[str, tuple[type[PretrainedConfig], dict[str, Any]]] = {
    "llama": (LlamaConfig, {}),
    "mistral": (MistralConfig, {"sliding_window": 4096}),
    "qwen2": (Qwen2Config, {}),
    "gemma2": (
        Gemma2Config,
        {"sliding_window": 4096, "query_pre_attn_scalar": 8, "hidden_activation": "gelu_pytorch_tanh"},
    ),
    "gemma3": (Gemma3TextConfig, {"sliding_window": 4096, "query_pre_attn_scalar": 8}),
}


@contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one thread, then restore. Tiny models gain nothing from threads, and on a shared
    2-core machine thread hand-offs make each small matmul ~10x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def tiny_config(arch: str, n_layers: int = 4, **overrides: Any) -> PretrainedConfig:
    """The config of a tiny `arch` model; `overrides` set any config field (e.g. sliding_window=3).

    `attn_implementation` is accepted as an override too ("eager", "sdpa").
    """
    if arch not in _ARCH:
        raise ValueError(f"unknown arch {arch!r}; choose one of {ARCHS}")
    cls, extra = _ARCH[arch]
    kwargs = {**_COMMON, **extra, "num_hidden_layers": n_layers, **overrides}
    if arch in ("gemma2", "gemma3") and "layer_types" not in overrides:
        # Gemma alternates local (sliding) and global layers; start with a sliding one so that
        # layer 0 shows the window.
        kwargs["layer_types"] = ["sliding_attention" if i % 2 == 0 else "full_attention" for i in range(n_layers)]
    return cls(**kwargs)


def _build(auto: type, arch: str, n_layers: int, seed: int, overrides: dict[str, Any]) -> PreTrainedModel:
    attn = overrides.pop("attn_implementation", "eager")
    config = tiny_config(arch, n_layers, **overrides)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = auto.from_config(config, attn_implementation=attn)
    return model.eval()


def tiny_causal_lm(arch: str, n_layers: int = 4, *, seed: int = 0, **overrides: Any) -> PreTrainedModel:
    """A seeded tiny *ForCausalLM (eval mode; eager attention unless attn_implementation= says)."""
    return _build(AutoModelForCausalLM, arch, n_layers, seed, overrides)


def tiny_base_model(arch: str, n_layers: int = 4, *, seed: int = 0, **overrides: Any) -> PreTrainedModel:
    """A seeded tiny bare decoder (LlamaModel, ..., Gemma3TextModel): what AutoModel loads, no LM head."""
    return _build(AutoModel, arch, n_layers, seed, overrides)


def sliding_overrides(arch: str, window: int) -> dict[str, Any] | None:
    """Config overrides that give `arch` a sliding window of `window` tokens; None for Llama (no window).

    Mistral slides in every layer, Gemma in its `sliding_attention` layers (0 and 2 here), Qwen2 in the
    layers from `max_window_layers` on (2 and 3 here).
    """
    if arch == "llama":
        return None
    if arch == "qwen2":
        return {"use_sliding_window": True, "sliding_window": window, "max_window_layers": 2}
    return {"sliding_window": window}
