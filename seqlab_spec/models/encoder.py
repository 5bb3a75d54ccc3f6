"""The encoder baseline: AutoModelForTokenClassification, full fine-tuning or LoRA."""

from __future__ import annotations

from pathlib import Path

import torch

from ..data.labels import LabelSet
from ..errors import ModelError
from ..spec.model import ModelSpec
from .registry import ResolvedModel, from_pretrained, load_tokenizer, resolve


def lora_config(peft_spec, task_type: str, modules_to_save: list[str] | None = None):
    """LoRA on `target_modules`; the `modules_to_save` (a tagging head) train fully and get no adapter."""
    from peft import LoraConfig

    return LoraConfig(
        r=peft_spec.r,
        lora_alpha=peft_spec.alpha,
        lora_dropout=peft_spec.dropout,
        target_modules=peft_spec.target_modules,
        exclude_modules=modules_to_save,
        task_type=task_type,
        modules_to_save=modules_to_save,
    )


def head_modules(model: torch.nn.Module, target_modules) -> list[str]:
    """The token-classification head (children outside the backbone, e.g. `classifier`): trained fully.
    peft's `all-linear` would also put LoRA on it, which its own full training then refuses (TypeError)."""
    backbone = getattr(model, "base_model_prefix", "")
    head = [n for n, c in model.named_children() if n != backbone and any(True for _ in c.parameters())]
    named = [t for t in target_modules if t in head] if isinstance(target_modules, list) else []
    if named:
        raise ModelError(
            f"model.peft.target_modules: {named[0]!r} is the tagging head, which is trained fully (no adapter); "
            "remove it from the list (or use all-linear: LoRA on the backbone's linear layers)"
        )
    return head


def build_encoder(model_spec: ModelSpec, labels: LabelSet) -> tuple[torch.nn.Module, object, ResolvedModel]:
    """Model with a fresh classification head over our label set, and its tokenizer."""
    from transformers import AutoModelForTokenClassification

    resolved = resolve(model_spec.name)
    tokenizer = load_tokenizer(resolved)
    model = from_pretrained(
        AutoModelForTokenClassification.from_pretrained,
        resolved,
        num_labels=len(labels),
        id2label=dict(enumerate(labels.labels)),
        label2id={lab: i for i, lab in enumerate(labels.labels)},
        revision=model_spec.revision,
        trust_remote_code=model_spec.trust_remote_code,
    )
    if model_spec.peft.method == "lora":
        from peft import get_peft_model

        head = head_modules(model, model_spec.peft.target_modules)
        model = get_peft_model(model, lora_config(model_spec.peft, "TOKEN_CLS", head))
    return model, tokenizer, resolved


def save_encoder(model: torch.nn.Module, tokenizer, dest: Path) -> None:
    """A plain transformers checkpoint: LoRA is merged, so AutoModelForTokenClassification loads it as is."""
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    model.save_pretrained(dest)
    tokenizer.save_pretrained(dest)


def load_encoder(path: Path) -> tuple[torch.nn.Module, object, LabelSet]:
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    model = AutoModelForTokenClassification.from_pretrained(path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    labels = LabelSet.from_json([model.config.id2label[i] for i in range(model.config.num_labels)])
    return model, tokenizer, labels
