"""Unmasking helpers only the tests need: read back, remove and re-apply the hooks of models/unmask.py, and the
mask geometry of a config (the reference `bidirectional_attention_matrix` arguments). They read the module's
private hook functions on purpose: they check what the library installed, not what it says."""

from __future__ import annotations

from typing import Any

from torch import nn

from seqlab_spec.models.unmask import (
    _FLAG,
    _body_pre_hook,
    _configs,
    _remove_hooks,
    apply_unmask,
    find_decoder_body,
)


def mask_geometry(config: Any) -> dict[str, Any]:
    """The `sliding_window` / `layer_types` of a model config, as `bidirectional_attention_matrix` wants.

    Mistral-style configs set a window for every layer; Qwen2/Gemma name each layer's type.
    """
    n_layers = config.num_hidden_layers
    window = getattr(config, "sliding_window", None)
    types = getattr(config, "layer_types", None)
    if types is None:
        types = ["sliding_attention" if window is not None else "full_attention"] * n_layers
    return {"sliding_window": window, "layer_types": list(types)}


def remove_unmask(model: nn.Module) -> nn.Module:
    """Back to the stock model: hooks removed, `config.unmask_pattern` deleted."""
    body = find_decoder_body(model)
    _remove_hooks(body)
    for layer in body.layers:
        _remove_hooks(layer)
        if hasattr(layer, _FLAG):
            delattr(layer, _FLAG)
    for cfg in _configs(model, body):
        if hasattr(cfg, "unmask_pattern"):
            delattr(cfg, "unmask_pattern")
    return model


def current_pattern(model: nn.Module) -> str | None:
    """The pattern the hooks apply now; None when the model is not hooked (stock, or freshly loaded)."""
    body = find_decoder_body(model)
    hooked = any(fn is _body_pre_hook for fn in body._forward_pre_hooks.values())
    if not hooked:
        return None
    return getattr(body.config, "unmask_pattern", None)


def restore_unmask(model: nn.Module) -> str | None:
    """Re-apply `config.unmask_pattern` (e.g. after from_pretrained); returns it, or None when absent."""
    body = find_decoder_body(model)
    pattern = getattr(body.config, "unmask_pattern", None)
    if pattern is not None:
        apply_unmask(model, pattern)
    return pattern
