"""Trigger tagger coupled with OIE relation tags (Dukić et al., EACL 2024 Findings) on an AutoModel backbone.

Three injections of the relation tags (O / B-REL / I-REL, `signals.reltags.REL_LABELS`):
- `none`: the vanilla tagger (backbone -> dropout -> linear); relation inputs are ignored;
- `implicit`: an embedding of each subword's relation tag is concatenated to its hidden state before the
  trigger head. Every subword of a word carries the word's tag; special tokens and padding carry the
  pad id (`n_rel_labels`, an extra embedding row fixed at zero). The tags are inputs, needed at test time
  too (the extractor runs on any text);
- `explicit`: a second linear head predicts relation tags from the shared states; the loss is
  trigger CE + `rel_weight` * relation CE (both on first subwords, -100 elsewhere). At test time only the
  trigger head is read: the relations shaped the shared encoder during training.

The module is a plain `nn.Module` that the transformers Trainer can train: forward returns a
`TokenClassifierOutput` subclass with `loss` and `logits` (the trigger head's), plus `trigger_loss`,
`rel_loss` and `rel_logits`. Those extra keys are listed in the backbone config's
`keys_to_ignore_at_inference` so Trainer.evaluate/predict hand compute_metrics the trigger logits alone.
Trainer infers label names from the forward signature (`labels`, `rel_labels`): pass
`TrainingArguments(label_names=["labels"])` to get the trigger labels alone in compute_metrics.

Masked-LM on unlabeled target text (method.mlm): `OieTaggerWithMlm` wraps the tagger for training and adds a
`MaskedLmHead` loss on a batch that `MlmMixCollator` carries along each task batch under `mlm_*` keys.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn
from transformers.modeling_outputs import TokenClassifierOutput

from ..data.alignment import IGNORE, first_subword_labels
from ..errors import ModelError

INJECTIONS = ("none", "implicit", "explicit")
EXTRA_OUTPUT_KEYS = ["trigger_loss", "rel_loss", "rel_logits"]
CONFIG_FILE = "oie_tagger.json"
HEADS_FILE = "heads.safetensors"
BACKBONE_DIR = "backbone"


@dataclass
class OieTaggerOutput(TokenClassifierOutput):
    """Trigger loss/logits as usual, plus the parts: trigger CE, relation CE, relation logits (explicit)."""

    trigger_loss: torch.Tensor | None = None
    rel_loss: torch.Tensor | None = None
    rel_logits: torch.Tensor | None = None


def _ce(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean token cross-entropy over targets != -100 (0, still differentiable, when there are none)."""
    flat_logits = logits.reshape(-1, logits.shape[-1])
    flat = targets.reshape(-1).to(flat_logits.device)
    if not bool((flat != IGNORE).any()):
        return flat_logits.sum() * 0.0
    return F.cross_entropy(flat_logits.float(), flat, ignore_index=IGNORE)


class OieTagger(nn.Module):
    """Backbone + trigger head; relation tags as input features (implicit) or as a second task (explicit)."""

    def __init__(
        self,
        backbone: nn.Module,
        n_labels: int,
        injection: str = "none",
        n_rel_labels: int = 3,
        tag_dim: int = 32,
        rel_weight: float = 1.0,
        dropout: float = 0.1,
    ):
        super().__init__()
        if injection not in INJECTIONS:
            raise ModelError(f"injection {injection!r} is not one of {', '.join(INJECTIONS)}")
        if n_labels < 1 or n_rel_labels < 1 or tag_dim < 1:
            raise ModelError(
                f"n_labels ({n_labels}), n_rel_labels ({n_rel_labels}) and tag_dim ({tag_dim}) "
                "must be positive"
            )
        self.backbone = backbone
        self.n_labels = n_labels
        self.injection = injection
        self.n_rel_labels = n_rel_labels
        self.tag_dim = tag_dim
        self.rel_weight = float(rel_weight)
        self.dropout_p = float(dropout)
        hidden = backbone.config.hidden_size
        std = float(getattr(backbone.config, "initializer_range", 0.02))
        self.dropout = nn.Dropout(dropout)
        self.rel_embed = None
        if injection == "implicit":
            self.rel_embed = nn.Embedding(n_rel_labels + 1, tag_dim, padding_idx=n_rel_labels)
            nn.init.normal_(self.rel_embed.weight, std=std)
            with torch.no_grad():
                self.rel_embed.weight[n_rel_labels].zero_()
        self.classifier = nn.Linear(hidden + (tag_dim if injection == "implicit" else 0), n_labels)
        self.rel_classifier = nn.Linear(hidden, n_rel_labels) if injection == "explicit" else None
        for head in (self.classifier, self.rel_classifier):
            if head is not None:
                nn.init.normal_(head.weight, std=std)
                nn.init.zeros_(head.bias)
        ignore = list(getattr(backbone.config, "keys_to_ignore_at_inference", None) or [])
        backbone.config.keys_to_ignore_at_inference = ignore + [
            k for k in EXTRA_OUTPUT_KEYS if k not in ignore
        ]

    @property
    def config(self) -> Any:
        """The backbone's config (what Trainer and PEFT look for on a model)."""
        return self.backbone.config

    def activation_checkpointing_enable(
        self, activation_checkpointing_kwargs: dict | None = None, every_n_layers: int = 1, offload: bool = False
    ) -> None:
        """Checkpoint the backbone's layers (the Trainer calls this for `train.gradient_checkpointing`)."""
        self.backbone.activation_checkpointing_enable(
            activation_checkpointing_kwargs, every_n_layers=every_n_layers, offload=offload
        )
        self.backbone.enable_input_require_grads()  # frozen embeddings under LoRA still pass gradients

    @property
    def rel_pad_id(self) -> int:
        """Relation-tag id of special tokens and padding (implicit injection): one past the real tags."""
        return self.n_rel_labels

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        rel_tags: torch.Tensor | None = None,
        rel_labels: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
    ) -> OieTaggerOutput:
        """Trigger logits (and losses when labels are given); see the module doc for each injection."""
        inputs: dict[str, Any] = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:
            inputs["token_type_ids"] = token_type_ids
        if output_hidden_states is not None:
            inputs["output_hidden_states"] = output_hidden_states
        if output_attentions is not None:
            inputs["output_attentions"] = output_attentions
        out = self.backbone(**inputs)
        states = self.dropout(out.last_hidden_state)
        features = states
        if self.rel_embed is not None:
            if rel_tags is None:
                raise ModelError(
                    "injection 'implicit' needs rel_tags: the relation tag id of each subword "
                    f"(0=O, 1=B-REL, 2=I-REL; {self.rel_pad_id} for special tokens and padding)"
                )
            if rel_tags.shape != states.shape[:2]:
                raise ModelError(
                    f"rel_tags has shape {tuple(rel_tags.shape)} but the input has "
                    f"{tuple(states.shape[:2])} subword positions"
                )
            tags = rel_tags.to(states.device).masked_fill(rel_tags.to(states.device) < 0, self.rel_pad_id)
            emb = self.rel_embed(tags).to(states.dtype)
            features = torch.cat([states, emb], dim=-1)
        logits = self.classifier(features)
        rel_logits = self.rel_classifier(states) if self.rel_classifier is not None else None

        trigger_loss = _ce(logits, labels) if labels is not None else None
        rel_loss = _ce(rel_logits, rel_labels) if rel_logits is not None and rel_labels is not None else None
        parts = [
            p
            for p in (trigger_loss, None if rel_loss is None else self.rel_weight * rel_loss)
            if p is not None
        ]
        loss = sum(parts[1:], parts[0]) if parts else None
        return OieTaggerOutput(
            loss=loss,
            logits=logits,
            hidden_states=getattr(out, "hidden_states", None),
            attentions=getattr(out, "attentions", None),
            trigger_loss=trigger_loss,
            rel_loss=rel_loss,
            rel_logits=rel_logits,
        )

    def settings(self) -> dict[str, Any]:
        """The constructor arguments besides the backbone (saved next to the weights)."""
        return {
            "n_labels": self.n_labels,
            "injection": self.injection,
            "n_rel_labels": self.n_rel_labels,
            "tag_dim": self.tag_dim,
            "rel_weight": self.rel_weight,
            "dropout": self.dropout_p,
        }

    def save_pretrained(self, path: str | Path) -> None:
        """`path/backbone/` (the backbone's own format), `path/heads.safetensors`, `path/oie_tagger.json`."""
        p = Path(path)
        p.mkdir(parents=True, exist_ok=True)
        self.backbone.save_pretrained(p / BACKBONE_DIR)
        heads = {
            k: v.detach().cpu().contiguous()
            for k, v in self.state_dict().items()
            if not k.startswith("backbone.")
        }
        save_file(heads, str(p / HEADS_FILE))
        (p / CONFIG_FILE).write_text(json.dumps(self.settings(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def from_pretrained(cls, path: str | Path, **backbone_kwargs: Any) -> OieTagger:
        """Load what `save_pretrained` wrote (backbone through AutoModel)."""
        from transformers import AutoModel

        p = Path(path)
        if not (p / CONFIG_FILE).is_file():
            raise ModelError(f"{p}: no {CONFIG_FILE}; not a folder written by OieTagger.save_pretrained")
        settings = json.loads((p / CONFIG_FILE).read_text(encoding="utf-8"))
        backbone = AutoModel.from_pretrained(p / BACKBONE_DIR, **backbone_kwargs)
        model = cls(backbone, **settings)
        missing, unexpected = model.load_state_dict(load_file(str(p / HEADS_FILE)), strict=False)
        missing = [k for k in missing if not k.startswith("backbone.")]
        if missing or unexpected:
            raise ModelError(
                f"{p / HEADS_FILE}: head weights do not fit {CONFIG_FILE} "
                f"(missing {missing}, unexpected {unexpected})"
            )
        return model


def rel_features(
    word_ids: Sequence[int | None], word_rel_ids: Sequence[int], pad_id: int
) -> dict[str, list[int]]:
    """Per-subword relation inputs of one sentence: `rel_tags` (the word's tag on every subword, pad_id on
    special tokens) for implicit injection, `rel_labels` (first subword only, -100 elsewhere) for explicit."""
    rel_tags = [pad_id if w is None else int(word_rel_ids[w]) for w in word_ids]
    return {"rel_tags": rel_tags, "rel_labels": first_subword_labels(word_ids, word_rel_ids)}


@dataclass
class OieCollator:
    """Pads input_ids/attention_mask (tokenizer.pad) and, alongside, labels and rel_labels (-100) and
    rel_tags (the pad id), on the tokenizer's padding side. DataCollatorForTokenClassification pads only
    `labels`."""

    tokenizer: Any
    rel_pad_id: int = 3
    label_pad_id: int = IGNORE
    pad_to_multiple_of: int | None = None

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        pads = {"labels": self.label_pad_id, "rel_labels": self.label_pad_id, "rel_tags": self.rel_pad_id}
        present = [k for k in pads if k in features[0]]
        for k in present:
            for i, f in enumerate(features):
                if k not in f:
                    raise ValueError(
                        f"feature {i} lacks {k!r} that feature 0 has; give every feature the same keys"
                    )
                if len(f[k]) != len(f["input_ids"]):
                    raise ValueError(
                        f"feature {i}: {k} has {len(f[k])} positions for {len(f['input_ids'])} input ids"
                    )
        base = [{k: v for k, v in f.items() if k not in pads} for f in features]
        batch = dict(
            self.tokenizer.pad(
                base, padding=True, pad_to_multiple_of=self.pad_to_multiple_of, return_tensors="pt"
            )
        )
        width = batch["input_ids"].shape[1]
        left = getattr(self.tokenizer, "padding_side", "right") == "left"
        for k in present:
            rows = []
            for f in features:
                seq = [int(x) for x in f[k]]
                fill = [pads[k]] * (width - len(seq))
                rows.append(fill + seq if left else seq + fill)
            batch[k] = torch.tensor(rows, dtype=torch.long)
        return batch


class MaskedLmHead(nn.Module):
    """BERT-style masked-LM head (dense -> GELU -> LayerNorm -> vocabulary) whose output matrix is the
    backbone's input embedding matrix, passed at call time: tied without a second reference to the same
    tensor in the state dict (safetensors refuses shared tensors in a Trainer checkpoint)."""

    def __init__(self, hidden_size: int, vocab_size: int, eps: float = 1e-12, std: float = 0.02):
        super().__init__()
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.norm = nn.LayerNorm(hidden_size, eps=eps)
        self.bias = nn.Parameter(torch.zeros(vocab_size))
        nn.init.normal_(self.dense.weight, std=std)
        nn.init.zeros_(self.dense.bias)

    def forward(self, states: torch.Tensor, embeddings: torch.Tensor) -> torch.Tensor:
        """Vocabulary logits of `states` (any leading shape, hidden last)."""
        h = self.norm(F.gelu(self.dense(states)))
        return F.linear(h, embeddings.to(h.dtype), self.bias.to(h.dtype))


class OieTaggerWithMlm(nn.Module):
    """Training-time wrapper: the tagger's loss plus `mlm_weight` * masked-LM loss on a batch of unlabeled
    (target-domain) text carried in the same batch as `mlm_input_ids` / `mlm_attention_mask` / `mlm_labels`.

    The masked-LM loss is added only in training mode, and the vocabulary logits are computed only at the
    masked positions (a 30k-word projection of every position would dominate the step on a CPU). Unwrap with
    `.tagger` after training: nothing of the head is needed to tag.
    """

    def __init__(self, tagger: OieTagger, mlm_weight: float = 1.0):
        super().__init__()
        emb = tagger.backbone.get_input_embeddings()
        cfg = tagger.backbone.config
        self.tagger = tagger
        self.mlm_weight = float(mlm_weight)
        self.mlm_head = MaskedLmHead(
            cfg.hidden_size,
            emb.weight.shape[0],
            eps=float(getattr(cfg, "layer_norm_eps", 1e-12)),
            std=float(getattr(cfg, "initializer_range", 0.02)),
        )

    @property
    def config(self) -> Any:
        return self.tagger.config

    def activation_checkpointing_enable(self, *args: Any, **kwargs: Any) -> None:
        self.tagger.activation_checkpointing_enable(*args, **kwargs)

    def mlm_loss(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None, labels: torch.Tensor
    ) -> torch.Tensor:
        """Mean cross-entropy over the masked positions (labels != -100)."""
        states = self.tagger.backbone(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        keep = labels.to(states.device) != IGNORE
        if not bool(keep.any()):
            return states.sum() * 0.0
        logits = self.mlm_head(states[keep], self.tagger.backbone.get_input_embeddings().weight)
        return F.cross_entropy(logits.float(), labels.to(states.device)[keep])

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        rel_tags: torch.Tensor | None = None,
        rel_labels: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        mlm_input_ids: torch.Tensor | None = None,
        mlm_attention_mask: torch.Tensor | None = None,
        mlm_labels: torch.Tensor | None = None,
    ) -> OieTaggerOutput:
        out = self.tagger(
            input_ids=input_ids,
            attention_mask=attention_mask,
            labels=labels,
            rel_tags=rel_tags,
            rel_labels=rel_labels,
            token_type_ids=token_type_ids,
        )
        if self.training and mlm_input_ids is not None and mlm_labels is not None and out.loss is not None:
            mlm = self.mlm_loss(mlm_input_ids, mlm_attention_mask, mlm_labels)
            out.loss = out.loss + self.mlm_weight * mlm
        return out


@dataclass
class MlmMixCollator:
    """The task collator's batch plus the next batch of `mlm_batches` (input_ids/attention_mask/labels from
    DataCollatorForLanguageModeling) under `mlm_*` keys: one masked-LM batch rides along every task batch."""

    base: Any
    mlm_batches: Any  # an endless iterator of dicts

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        batch = self.base(features)
        extra = next(self.mlm_batches)
        batch["mlm_input_ids"] = extra["input_ids"]
        batch["mlm_attention_mask"] = extra["attention_mask"]
        batch["mlm_labels"] = extra["labels"]
        return batch
