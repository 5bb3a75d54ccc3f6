"""Layer-group causal-mask removal: a decoder LLM whose chosen layers attend both ways.

A pattern such as ``0110`` splits the L decoder layers into ``len(pattern)`` contiguous groups; a
``1`` group attends bidirectionally (padding-only mask), a ``0`` group keeps the model's stock mask
(causal, sliding window where the model has one). Dukić & Šnajder, ACL 2024 Findings.

How (transformers 5.x): the decoder body (LlamaModel, MistralModel, ..., Gemma3TextModel) builds its
masks once per forward and hands one to every decoder layer, and SDPA applies ``is_causal`` itself
when that mask is None. So two forward pre-hooks, no patched model code:

* on the body: read the caller's 2D padding mask (the only thing a bidirectional mask needs), refuse
  what cannot be honoured (flash/flex kernels, a filled KV cache, packed sequences, 4D masks), and
  hand a per-forward carrier down through the body's ``**kwargs``, which every decoder layer receives;
* on each decoder layer: pop the carrier; in a ``1`` layer replace ``attention_mask`` with the
  padding-only mask from ``masking_utils.create_bidirectional_mask`` (the format the configured
  kernel expects, built once per forward) and pass ``is_causal=False``, which the attention module
  forwards to the kernel, so SDPA cannot fall back to its causal flag when the mask is None.

Why these hooks: they sit on the body and its layers, which LoRA wrapping, `*ForCausalLM` heads and
`DecoderTagger` all share; they are stateless across forwards (the carrier travels in the call's
kwargs), so gradient checkpointing's recompute, which replays a layer's forward with the same
kwargs, sees the same masks; and they are plain module-level functions, so a deep copy or a pickle
of the model keeps working and re-applying a pattern just swaps them.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..errors import ModelError
from ..spec.method import PATTERN

SUPPORTED_ATTN = ("eager", "sdpa")
_CARRIER = "_seqlab_unmask"  # the private kwarg that carries the padding mask from the body to its layers
_FLAG = "unmask_bidirectional"  # attribute set on each decoder layer: True = this layer attends both ways


def check_pattern(pattern: str) -> str:
    """Return `pattern` if it is a non-empty string of 0/1, else raise ModelError with an example."""
    if not isinstance(pattern, str) or not PATTERN.match(pattern):
        raise ModelError(
            f"unmask pattern {pattern!r} must be a non-empty string of 0 and 1, one character per layer "
            "group (e.g. '0110': 4 groups, the middle two bidirectional)"
        )
    return pattern


def group_layers(n_layers: int, n_groups: int) -> list[list[int]]:
    """Split layers 0..L-1 into G contiguous groups, sizes as even as possible.

    Rule: every group gets L // G layers and the first L % G groups get one more, so sizes never
    differ by more than one and larger groups come first (30 layers, 4 groups: 8, 8, 7, 7).
    """
    if n_groups < 1:
        raise ModelError(f"need at least one layer group, got {n_groups}")
    if n_groups > n_layers:
        raise ModelError(
            f"{n_groups} layer groups for a model with {n_layers} layers: every group needs a layer; "
            f"use at most {n_layers} groups"
        )
    base, extra = divmod(n_layers, n_groups)
    groups, start = [], 0
    for g in range(n_groups):
        size = base + (1 if g < extra else 0)
        groups.append(list(range(start, start + size)))
        start += size
    return groups


def layer_flags(pattern: str, n_layers: int) -> list[bool]:
    """Per layer, True where the pattern makes it bidirectional (its group's character is 1)."""
    check_pattern(pattern)
    if len(pattern) > n_layers:
        raise ModelError(
            f"unmask pattern {pattern!r} has {len(pattern)} groups but the model has only {n_layers} "
            f"layers (L={n_layers}): each group needs at least one layer; use a pattern of at most "
            f"{n_layers} characters"
        )
    flags = [False] * n_layers
    for char, layers in zip(pattern, group_layers(n_layers, len(pattern)), strict=True):
        for i in layers:
            flags[i] = char == "1"
    return flags


def check_fits(pattern: Any, config: Any) -> None:
    """Preflight: a spec's `method.unmask` against the model's config, a layer per group (ModelError naming
    the key). A list or `all` is a sweep: each run's pattern is checked once expanded."""
    n_layers = getattr(config, "num_hidden_layers", None)
    if not isinstance(pattern, str) or pattern == "all" or n_layers is None:
        return
    try:
        layer_flags(pattern, n_layers)
    except ModelError as e:
        raise ModelError(f"method.unmask: {e}") from None


def bidirectional_attention_matrix(
    pattern: str,
    n_layers: int,
    seq_len: int,
    *,
    sliding_window: int | None = None,
    layer_types: list[str] | None = None,
    n_real: int | None = None,
) -> list[torch.Tensor]:
    """Per layer, the (seq_len, seq_len) bool matrix of what query row i may attend to (key column j).

    A `1` layer: every real token. A `0` layer: j <= i, and j > i - sliding_window where that layer
    slides (all layers when `layer_types` is None and a window is given, as in Mistral). With
    `n_real`, the tokens from position n_real on are right padding: no row may attend to them.
    For teaching plots (heatmaps) and as the reference the mask tests compare the model against.
    """
    flags = layer_flags(pattern, n_layers)
    if layer_types is not None and len(layer_types) != n_layers:
        raise ModelError(f"layer_types has {len(layer_types)} entries for {n_layers} layers")
    q = torch.arange(seq_len)[:, None]
    k = torch.arange(seq_len)[None, :]
    real_keys = k < (seq_len if n_real is None else n_real)
    out = []
    for i, bidirectional in enumerate(flags):
        if bidirectional:
            allowed = torch.ones(seq_len, seq_len, dtype=torch.bool)
        else:
            allowed = k <= q
            slides = sliding_window is not None and (layer_types is None or layer_types[i] == "sliding_attention")
            if slides:
                allowed = allowed & (k > q - sliding_window)
        out.append(allowed & real_keys)
    return out


def find_decoder_body(model: nn.Module) -> nn.Module:
    """The module that owns the decoder layers (`.layers`) and builds their masks.

    Accepts the body itself, a *ForCausalLM, a peft-wrapped model or a DecoderTagger: the first
    submodule that owns (as a child, not through peft's attribute forwarding) a `layers` ModuleList
    and has a `config`.
    """
    for module in model.modules():
        if isinstance(module._modules.get("layers"), nn.ModuleList) and hasattr(module, "config"):
            return module
    raise ModelError(
        f"{type(model).__name__} has no decoder body (a submodule with `config` and a `layers` list, "
        "like LlamaModel): unmasking needs a decoder LLM such as Llama, Mistral, Qwen2 or Gemma"
    )


def _check_attn(config: Any) -> None:
    impl = config._attn_implementation
    if impl not in SUPPORTED_ATTN:
        raise ModelError(
            f"attention implementation {impl!r} cannot be unmasked: it ignores custom masks and would "
            f"silently stay causal. Load the model with attn_implementation='sdpa' (or 'eager'); in a "
            f"spec: model.attn_implementation: sdpa"
        )
    if getattr(config, "is_causal", True) is False or getattr(config, "use_bidirectional_attention", False):
        raise ModelError(
            "this model is configured bidirectional already (config.is_causal=False or "
            "use_bidirectional_attention=True), so a '0' group would not be causal; load it with its "
            "default causal config"
        )


@dataclass
class _Carrier:
    """Travels with one forward through the body's kwargs: the padding mask and the masks built from it."""

    config: Any
    padding: torch.Tensor | None
    masks: dict[tuple, Any] = field(default_factory=dict)

    def bidirectional_mask(self, hidden: torch.Tensor) -> Any:
        """The padding-only mask for `hidden`'s shape/dtype/device, in the kernel's format; built once."""
        from transformers.masking_utils import create_bidirectional_mask

        key = (hidden.shape[0], hidden.shape[1], hidden.dtype, hidden.device)
        if key not in self.masks:
            self.masks[key] = create_bidirectional_mask(
                config=self.config, inputs_embeds=hidden, attention_mask=self.padding
            )
        return self.masks[key]


def _body_pre_hook(body: nn.Module, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """Before the body's forward: check what we can honour, then attach the carrier."""
    _check_attn(body.config)
    bound = inspect.signature(body.forward).bind_partial(*args, **kwargs).arguments
    padding = bound.get("attention_mask")
    if padding is not None and not (isinstance(padding, torch.Tensor) and padding.ndim == 2):
        got = f"a {padding.ndim}D tensor" if isinstance(padding, torch.Tensor) else type(padding).__name__
        raise ModelError(
            f"an unmasked model needs the 2D padding mask (batch, seq) as attention_mask, got {got}: "
            "pass the tokenizer's attention_mask"
        )
    cache = bound.get("past_key_values")
    if cache is not None and hasattr(cache, "get_seq_length") and cache.get_seq_length() > 0:
        raise ModelError(
            "an unmasked model re-reads the whole sentence in every forward; incremental decoding with a "
            "filled KV cache is not supported: call it on full sequences (use_cache=False)"
        )
    if kwargs.get("is_causal") is False:
        raise ModelError("is_causal=False would make every layer bidirectional; use the pattern '1'*G instead")
    position_ids = bound.get("position_ids")
    if padding is None and isinstance(position_ids, torch.Tensor) and position_ids.ndim == 2:
        from transformers.masking_utils import find_packed_sequence_indices

        if find_packed_sequence_indices(position_ids) is not None:
            raise ModelError(
                "packed sequences (position_ids restarting inside a row) would attend across sentences in a "
                "bidirectional layer; pad the batch and pass attention_mask instead"
            )
    kwargs[_CARRIER] = _Carrier(body.config, padding)
    return args, kwargs


def _layer_pre_hook(layer: nn.Module, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """Before a decoder layer: drop the carrier; in a bidirectional layer swap in its mask."""
    carrier: _Carrier | None = kwargs.pop(_CARRIER, None)
    if not getattr(layer, _FLAG, False):
        return args, kwargs
    if carrier is None:
        raise ModelError(
            f"{type(layer).__name__} is unmasked but was called without its model's forward (or the model "
            "does not pass its keyword arguments to its layers): call the whole model"
        )
    hidden = args[0] if args else kwargs["hidden_states"]
    kwargs["attention_mask"] = carrier.bidirectional_mask(hidden)
    kwargs["is_causal"] = False
    return args, kwargs


def _remove_hooks(module: nn.Module) -> None:
    for hook_id, fn in list(module._forward_pre_hooks.items()):
        if fn is _body_pre_hook or fn is _layer_pre_hook:
            del module._forward_pre_hooks[hook_id]
            module._forward_pre_hooks_with_kwargs.pop(hook_id, None)


def _configs(model: nn.Module, body: nn.Module) -> list[Any]:
    """Every distinct config object the pattern must be written to (body, head model, peft wrapper)."""
    found = []
    for cfg in (body.config, getattr(model, "config", None)):
        if cfg is not None and not any(cfg is c for c in found):
            found.append(cfg)
    return found


def apply_unmask(model: nn.Module, pattern: str) -> nn.Module:
    """Make the layers in `1` groups bidirectional; returns `model` (changed in place).

    Works on a bare body, a *ForCausalLM, a peft-wrapped model or a DecoderTagger. Calling it again
    replaces the previous pattern. The pattern is kept in `config.unmask_pattern`, so save_pretrained
    stores it; after from_pretrained, apply it again (DecoderTagger.load and the OIE pipeline's
    load_for_predict do).
    """
    body = find_decoder_body(model)
    flags = layer_flags(pattern, len(body.layers))
    _check_attn(body.config)
    _remove_hooks(body)
    body.register_forward_pre_hook(_body_pre_hook, with_kwargs=True)
    for layer, bidirectional in zip(body.layers, flags, strict=True):
        _remove_hooks(layer)
        setattr(layer, _FLAG, bidirectional)
        layer.register_forward_pre_hook(_layer_pre_hook, with_kwargs=True)
    for cfg in _configs(model, body):
        cfg.unmask_pattern = pattern
    return model
