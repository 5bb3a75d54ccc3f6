"""Trainer wiring shared by every tagger: features, precision, length grouping, best-on-dev-F1, progress lines."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from transformers import (
    DataCollatorForTokenClassification,
    PrinterCallback,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)

from .data.alignment import first_subword_labels
from .data.encoding import encode_words
from .data.labels import LabelSet
from .data.types import Sentence
from .evaluate import span_scores
from .precision import resolve_precision
from .spec import Spec


def tagging_features(sentences: list[Sentence], tokenizer, labels: LabelSet, max_length: int) -> list[dict]:
    """One dict per sentence: input_ids, attention_mask, first-subword labels (-100 elsewhere), length.

    A dev/test type that train never saw is trained/selected as O here; final evaluation reads the gold strings.
    """
    out = []
    for s in sentences:
        enc = encode_words(tokenizer, s.tokens, max_length)
        ids = [labels.id(t) if t in labels else 0 for t in s.tags]
        out.append(
            {
                "input_ids": enc.input_ids,
                "attention_mask": [1] * len(enc.input_ids),
                "labels": first_subword_labels(enc.word_ids, ids),
                "length": len(enc.input_ids),
            }
        )
    return out


def metrics_from_logits(labels: LabelSet) -> Callable:
    """compute_metrics for the Trainer: strict span F1 over first subwords (the dev-selection signal)."""

    def compute(pred) -> dict[str, float]:
        pred_ids, gold_ids = pred.predictions, pred.label_ids
        gold, guess = [], []
        for p_row, g_row in zip(pred_ids, gold_ids, strict=True):
            keep = g_row != -100
            gold.append([labels.label(int(i)) for i in g_row[keep]])
            guess.append([labels.label(int(i)) for i in p_row[keep]])
        s = span_scores(gold, guess)
        return {"f1": s["micro"]["f1"], "precision": s["micro"]["precision"], "recall": s["micro"]["recall"]}

    return compute


def _argmax_logits(logits, _labels):
    if isinstance(logits, tuple):
        logits = logits[0]
    return logits.argmax(-1)


class ProgressLines(TrainerCallback):
    """One plain line per logging step: readable in a terminal, a notebook and papermill's streamed log."""

    def __init__(self) -> None:
        self.t0 = time.time()

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        parts = [f"step {state.global_step}/{state.max_steps}", f"epoch {state.epoch or 0:.2f}"]
        for k in ("loss", "eval_loss", "eval_f1", "learning_rate"):
            if k in logs:
                v = logs[k]
                parts.append(f"{k.replace('learning_rate', 'lr')} {v:.3g}" if k == "learning_rate" else f"{k} {v:.4f}")
        parts.append(f"{time.time() - self.t0:.0f}s")
        print("  ".join(parts), flush=True)


def training_arguments(spec: Spec, out: Path, has_dev: bool, **extra) -> TrainingArguments:
    t = spec.train
    precision = resolve_precision(t.precision)
    evaluate = has_dev and t.eval_every == "epoch"
    return TrainingArguments(
        output_dir=str(out),
        num_train_epochs=t.epochs,
        max_steps=t.max_steps,
        learning_rate=t.lr,
        per_device_train_batch_size=t.batch_size,
        per_device_eval_batch_size=spec.eval.batch_size,
        gradient_accumulation_steps=t.grad_accum,
        warmup_steps=t.warmup_ratio,
        weight_decay=t.weight_decay,
        seed=t.seed,
        data_seed=t.seed,
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        train_sampling_strategy="group_by_length" if t.group_by_length else "random",
        activation_checkpointing=t.gradient_checkpointing,
        eval_strategy="epoch" if evaluate else "no",
        save_strategy="epoch" if evaluate and t.select_best else "no",
        save_total_limit=1 if evaluate and t.select_best else None,
        load_best_model_at_end=evaluate and t.select_best,
        metric_for_best_model="f1",
        greater_is_better=True,
        logging_steps=t.logging_steps,
        report_to="none",
        disable_tqdm=True,
        dataloader_num_workers=0,
        save_only_model=True,
        use_cpu=not torch.cuda.is_available(),
        **extra,
    )


def build_trainer(
    spec: Spec,
    model: torch.nn.Module,
    tokenizer,
    train_features: list[dict],
    dev_features: list[dict] | None,
    labels: LabelSet,
    out: Path,
    collator=None,
    trainer_cls: type[Trainer] = Trainer,
) -> Trainer:
    from datasets import Dataset

    args = training_arguments(spec, out, has_dev=bool(dev_features))
    trainer = trainer_cls(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(train_features),
        eval_dataset=Dataset.from_list(dev_features) if dev_features else None,
        data_collator=collator or DataCollatorForTokenClassification(tokenizer, pad_to_multiple_of=8),
        compute_metrics=metrics_from_logits(labels),
        preprocess_logits_for_metrics=_argmax_logits,
        callbacks=[ProgressLines()],
    )
    trainer.remove_callback(PrinterCallback)  # ProgressLines prints the same, one readable line per log
    return trainer


def log_history(trainer: Trainer) -> list[dict]:
    """The Trainer's log, JSON-safe (NaN/inf as None)."""
    clean = []
    for row in trainer.state.log_history:
        clean.append({k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()})
    return json.loads(json.dumps(clean, default=float))


def set_seed(seed: int) -> None:
    from transformers import set_seed as hf_set_seed

    hf_set_seed(seed)
    np.random.seed(seed)
