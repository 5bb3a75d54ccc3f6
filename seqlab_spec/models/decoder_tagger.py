"""A decoder LLM as a token tagger: backbone (unmasked by a layer-group pattern) -> dropout -> linear head.

The backbone is what AutoModel loads for a decoder (LlamaModel, ..., no LM head); its last hidden
states feed a linear layer over the label set. Plain `nn.Module` rather than a PreTrainedModel: the
backbone keeps its own config class, and `save`/`load` store exactly what a reload needs (head, labels,
pattern, backbone or LoRA adapter). The forward follows transformers' conventions (keyword inputs,
`labels` with -100 ignored, `num_items_in_batch`, a TokenClassifierOutput with the loss) so the
Trainer trains it as is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from transformers import AutoModel, PreTrainedModel
from transformers.modeling_outputs import TokenClassifierOutput

from ..errors import ModelError
from .unmask import apply_unmask, check_pattern, find_decoder_body

FORMAT = 1
META_FILE = "tagger.json"
HEAD_FILE = "head.safetensors"


def _is_peft(model: nn.Module) -> bool:
    from peft import PeftModel  # a dependency, imported when first needed

    return isinstance(model, PeftModel)


def ensure_pad_token(tokenizer: Any) -> Any:
    """Give the tokenizer a pad token (its eos, else unk) and right padding; returns it.

    Decoder tokenizers often ship without a pad token. Right padding keeps every real token at the
    position it has alone (positions count from 0 on the left), which the tagger relies on.
    """
    if tokenizer.pad_token is None:
        fallback = tokenizer.eos_token or tokenizer.unk_token
        if fallback is None:
            raise ModelError(
                f"tokenizer {getattr(tokenizer, 'name_or_path', '')!r} has no pad, eos or unk token to pad "
                "with: add one (tokenizer.add_special_tokens({'pad_token': '<pad>'}) and resize the model's "
                "embeddings)"
            )
        tokenizer.pad_token = fallback
    tokenizer.padding_side = "right"
    return tokenizer


def wrap_lora(
    backbone: PreTrainedModel,
    r: int = 16,
    alpha: int = 32,
    dropout: float = 0.1,
    target_modules: str | list[str] = "all-linear",
) -> nn.Module:
    """LoRA adapters on the backbone (peft); only they train. Build the DecoderTagger on the result:
    its head lives outside the peft model and stays fully trainable."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=r,
        lora_alpha=alpha,
        lora_dropout=dropout,
        target_modules=target_modules,
        task_type="FEATURE_EXTRACTION",
    )
    return get_peft_model(backbone, config)


def _check_right_padding(attention_mask: torch.Tensor) -> None:
    if attention_mask.shape[1] > 1 and bool((attention_mask[:, 1:] > attention_mask[:, :-1]).any()):
        raise ModelError(
            "the batch is left-padded (a real token after padding); the tagger needs right padding: "
            "set tokenizer.padding_side = 'right' (ensure_pad_token does)"
        )


class DecoderTagger(nn.Module):
    """Backbone hidden states -> dropout -> linear head over `labels`; the pattern unmasks the backbone."""

    def __init__(
        self,
        backbone: nn.Module,
        labels: Sequence[str],
        pattern: str = "0000",
        head_dropout: float = 0.1,
    ):
        super().__init__()
        if not labels:
            raise ModelError("DecoderTagger needs at least one label (e.g. the LabelSet's labels)")
        self.backbone = backbone
        self.labels = list(labels)
        self.head_dropout = head_dropout
        config = find_decoder_body(backbone).config
        self.dropout = nn.Dropout(head_dropout)
        self.head = nn.Linear(config.hidden_size, len(self.labels))
        nn.init.normal_(self.head.weight, std=getattr(config, "initializer_range", 0.02))
        nn.init.zeros_(self.head.bias)
        self.set_pattern(pattern)

    @property
    def backbone_config(self) -> Any:
        """The decoder body's config (also behind a peft wrapper)."""
        return find_decoder_body(self.backbone).config

    @property
    def pattern(self) -> str:
        """The layer-group pattern applied to the backbone."""
        return self.backbone_config.unmask_pattern

    def set_pattern(self, pattern: str) -> None:
        """Re-apply the backbone's unmasking with a new pattern (replaces the old one)."""
        apply_unmask(self.backbone, check_pattern(pattern))

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        num_items_in_batch: int | torch.Tensor | None = None,
        **kwargs: Any,
    ) -> TokenClassifierOutput:
        """Logits (batch, seq, n_labels); with `labels`, the mean cross-entropy over labels != -100
        (or the sum divided by `num_items_in_batch`, which the Trainer passes under gradient accumulation)."""
        if attention_mask is None:
            ref = input_ids if input_ids is not None else kwargs["inputs_embeds"]
            attention_mask = torch.ones(ref.shape[:2], dtype=torch.long, device=ref.device)
        _check_right_padding(attention_mask)
        kwargs.setdefault("use_cache", False)
        out = self.backbone(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
        hidden = out.last_hidden_state
        logits = self.head(self.dropout(hidden.to(self.head.weight.dtype)))
        loss = None
        if labels is not None:
            flat = labels.reshape(-1).to(logits.device)
            total = F.cross_entropy(
                logits.reshape(-1, logits.shape[-1]).float(), flat, ignore_index=-100, reduction="sum"
            )
            count = num_items_in_batch if num_items_in_batch is not None else (flat != -100).sum()
            if isinstance(count, torch.Tensor):
                count = count.to(total.device)
            loss = total / (count.clamp(min=1) if isinstance(count, torch.Tensor) else max(count, 1))
        return TokenClassifierOutput(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )

    def _inner(self) -> PreTrainedModel:
        return self.backbone.get_base_model() if _is_peft(self.backbone) else self.backbone

    def activation_checkpointing_enable(
        self,
        activation_checkpointing_kwargs: dict | None = None,
        every_n_layers: int = 1,
        offload: bool = False,
    ) -> None:
        """Checkpoint the backbone's layers (the Trainer calls this for `activation_checkpointing=True`)."""
        self._inner().activation_checkpointing_enable(
            activation_checkpointing_kwargs, every_n_layers=every_n_layers, offload=offload
        )
        self._inner().enable_input_require_grads()  # frozen embeddings under LoRA still pass gradients

    gradient_checkpointing_enable = activation_checkpointing_enable

    # ---- persistence ---------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write tagger.json (labels, pattern, kernel, dtype), head.safetensors and backbone/ or adapter/."""
        from safetensors.torch import save_file

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        body_config = self.backbone_config
        lora = _is_peft(self.backbone)
        meta = {
            "format": FORMAT,
            "labels": self.labels,
            "pattern": self.pattern,
            "head_dropout": self.head_dropout,
            "backbone": "lora" if lora else "full",
            "base_model": body_config._name_or_path or None,
            "attn_implementation": body_config._attn_implementation,
            "dtype": str(next(self._inner().parameters()).dtype).removeprefix("torch."),
        }
        self.backbone.save_pretrained(out / ("adapter" if lora else "backbone"))
        save_file({k: v.detach().cpu().contiguous() for k, v in self.head.state_dict().items()}, out / HEAD_FILE)
        (out / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        return out

    @classmethod
    def load(
        cls,
        directory: str | Path,
        base_model: str | Path | PreTrainedModel | None = None,
        is_trainable: bool = False,
    ) -> DecoderTagger:
        """Rebuild a saved tagger (eval mode) with its pattern re-applied.

        A LoRA tagger needs its base model: `base_model` (a path or a loaded model), else the path
        recorded at save time.
        """
        from safetensors.torch import load_file

        src = Path(directory)
        meta_path = src / META_FILE
        if not meta_path.is_file():
            raise ModelError(f"{meta_path}: not found; is {src} a folder written by DecoderTagger.save?")
        meta = json.loads(meta_path.read_text())
        if meta.get("format") != FORMAT:
            raise ModelError(f"{meta_path}: format {meta.get('format')!r}, this version reads format {FORMAT}")
        load_kwargs = {
            "attn_implementation": meta["attn_implementation"],
            "dtype": getattr(torch, meta["dtype"]),
        }
        if meta["backbone"] == "full":
            backbone: nn.Module = AutoModel.from_pretrained(src / "backbone", **load_kwargs)
        else:
            from peft import PeftModel

            base = base_model if base_model is not None else meta.get("base_model")
            if base is None:
                raise ModelError(
                    f"{meta_path}: a LoRA tagger needs its base model and none was recorded; pass "
                    "base_model=<path or model> to DecoderTagger.load"
                )
            if not isinstance(base, nn.Module):
                base = AutoModel.from_pretrained(base, **load_kwargs)
            backbone = PeftModel.from_pretrained(base, src / "adapter", is_trainable=is_trainable)
        tagger = cls(backbone, meta["labels"], meta["pattern"], meta["head_dropout"])
        tagger.head.load_state_dict(load_file(src / HEAD_FILE))
        tagger.head.to(next(tagger._inner().parameters()).device)
        return tagger.eval()


# ---- the spec's view: build / save / load a tagger for method `unmask` ------------------------------
def build_decoder_tagger(spec: Any, labels: Any) -> tuple[DecoderTagger, Any]:
    """DecoderTagger for `spec` (model, PEFT, quantization, pattern) and its right-padding tokenizer."""
    from .quantization import prepare_for_training, quantization_kwargs
    from .registry import from_pretrained, load_tokenizer, resolve

    pattern = spec.method.unmask
    if not isinstance(pattern, str) or pattern == "all":
        raise ModelError(
            f"method.unmask: {pattern!r} is a sweep; run it with `seqlab-spec run` (one run per pattern) "
            "or pick one pattern"
        )
    resolved = resolve(spec.model.name)
    tokenizer = ensure_pad_token(load_tokenizer(resolved))
    kwargs: dict[str, Any] = {"revision": spec.model.revision, "trust_remote_code": spec.model.trust_remote_code}
    if spec.model.attn_implementation != "auto":
        kwargs["attn_implementation"] = spec.model.attn_implementation
    kwargs |= quantization_kwargs(spec.model, spec.train.precision)
    backbone = from_pretrained(AutoModel.from_pretrained, resolved, **kwargs)
    backbone = prepare_for_training(backbone, spec.model, spec.train.gradient_checkpointing)
    peft = spec.model.peft
    if peft.method == "lora":
        backbone = wrap_lora(backbone, peft.r, peft.alpha, peft.dropout, peft.target_modules)
    return DecoderTagger(backbone, labels.labels, pattern, spec.method.head_dropout), tokenizer


def save_decoder_tagger(model: DecoderTagger, tokenizer: Any, dest: Path) -> None:
    model.save(dest)
    tokenizer.save_pretrained(dest / "tokenizer")


def load_decoder_tagger(directory: Path) -> tuple[DecoderTagger, Any, Any]:
    """(tagger with its pattern re-applied, tokenizer, LabelSet) from a run folder's model/."""
    from transformers import AutoTokenizer

    from ..data.labels import LabelSet

    tagger = DecoderTagger.load(directory)
    tokenizer = ensure_pad_token(AutoTokenizer.from_pretrained(Path(directory) / "tokenizer"))
    return tagger, tokenizer, LabelSet.from_json(tagger.labels)
