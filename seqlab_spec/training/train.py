"""Trainer wiring shared by every tagger: features, precision, length grouping, best-on-dev-F1, progress
lines, and checkpoints an interrupted run resumes from (`seqlab-spec run --resume`)."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from transformers import (
    PrinterCallback,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)

from ..data.alignment import first_subword_labels
from ..data.encoding import encode_words
from ..data.labels import LabelSet
from ..data.types import Sentence
from ..evaluation.scores import span_scores
from ..machine import check_train_switches
from ..spec import Spec
from .ordering import OrderedTrainer, SpecTrainingArguments, TokenBudgetBatches, epoch_generator
from .precision import resolve_precision
from .tracking import backends, log_into_run_folder

CHECKPOINTS = "checkpoints"  # the run folder's sub-folder of Trainer checkpoints (removed after training)


def tagging_row(sentence: Sentence, tokenizer, labels: LabelSet, max_length: int) -> tuple[dict, list[int | None]]:
    """One Trainer row (input_ids, attention_mask, first-subword labels with -100 elsewhere, length) and the
    word index of each subword (None: special tokens), for rows that add inputs per word (OIE's relation tags).

    A dev/test type that train never saw is trained/selected as O here; final evaluation reads the gold strings.
    """
    enc = encode_words(tokenizer, sentence.tokens, max_length)
    ids = [labels.id(t) if t in labels else 0 for t in sentence.tags]
    row = {
        "input_ids": enc.input_ids,
        "attention_mask": [1] * len(enc.input_ids),
        "labels": first_subword_labels(enc.word_ids, ids),
        "length": len(enc.input_ids),
    }
    return row, enc.word_ids


def tagging_features(sentences: list[Sentence], tokenizer, labels: LabelSet, max_length: int) -> list[dict]:
    """One `tagging_row` per sentence: input_ids, attention_mask, first-subword labels (-100 elsewhere), length."""
    return [tagging_row(s, tokenizer, labels, max_length)[0] for s in sentences]


def metrics_from_logits(labels: LabelSet, mode: str = "strict") -> Callable:
    """compute_metrics for the Trainer: span F1 over first subwords in reading `mode` (eval.mode), the
    dev-selection signal."""

    def compute(pred) -> dict[str, float]:
        pred_ids, gold_ids = pred.predictions, pred.label_ids
        gold, guess = [], []
        for p_row, g_row in zip(pred_ids, gold_ids, strict=True):
            keep = g_row != -100
            gold.append([labels.label(int(i)) for i in g_row[keep]])
            guess.append([labels.label(int(i)) for i in p_row[keep]])
        s = span_scores(gold, guess, mode)
        return {"f1": s["micro"]["f1"], "precision": s["micro"]["precision"], "recall": s["micro"]["recall"]}

    return compute


class PadBatch:
    """Collator of `tagging_features` rows: input_ids (pad id), attention_mask (0) and labels (-100) padded on
    the right to the longest row, rounded up to `pad_to_multiple_of`, as int64 tensors [batch, width].

    The same tensors as transformers' DataCollatorForTokenClassification, built with torch alone: that one goes
    through `tokenizer.pad` and pads labels in Python lists (measured: 1.6 ms of CPU per batch of 32 against
    0.5 ms here). Other keys (e.g. `length`) are left out.
    """

    def __init__(self, pad_id: int, pad_to_multiple_of: int | None = 8) -> None:
        self.pad_id = pad_id
        self.pad_to_multiple_of = pad_to_multiple_of

    def __call__(self, rows: list[dict]) -> dict[str, torch.Tensor]:
        width = max(len(r["input_ids"]) for r in rows)
        if self.pad_to_multiple_of:
            width = -(-width // self.pad_to_multiple_of) * self.pad_to_multiple_of

        def padded(key: str, fill: int) -> torch.Tensor:  # one tensor from padded lists: no per-row tensors
            return torch.tensor([list(r[key]) + [fill] * (width - len(r[key])) for r in rows], dtype=torch.long)

        return {
            "input_ids": padded("input_ids", self.pad_id),
            "attention_mask": padded("attention_mask", 0),
            "labels": padded("labels", -100),
        }


def argmax_logits(logits, _labels):
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


def training_arguments(spec: Spec, out: Path, has_dev: bool, resumable: bool = False, **extra) -> TrainingArguments:
    """The spec's optimisation settings as TrainingArguments (with the spec's `batch_order` and `batch_tokens`, read
    by `OrderedTrainer`, the Trainer of every pipeline).

    `resumable`: checkpoint at every epoch end whatever the evaluation settings, with optimizer, scheduler and
    RNG states, so `train_resumable` can continue exactly where an interrupted run stopped (`resume_callbacks`
    adds `train.save_every_steps`). Otherwise a checkpoint (weights only) is written only to select the best.
    """
    t = spec.train
    check_train_switches(spec)
    precision = resolve_precision(t.precision)
    cuda = torch.cuda.is_available()
    evaluate = has_dev and t.eval_every == "epoch"
    select = evaluate and t.select_best
    return SpecTrainingArguments(
        output_dir=str(out),
        num_train_epochs=t.epochs,
        max_steps=t.max_steps,
        learning_rate=t.lr,
        per_device_train_batch_size=t.batch_size,
        per_device_eval_batch_size=spec.eval.batch_size,
        gradient_accumulation_steps=t.grad_accum,
        warmup_steps=t.warmup_ratio,  # a float < 1: a fraction of all steps
        optim=t.optim,
        lr_scheduler_type=t.lr_scheduler,
        adam_beta1=t.adam_beta1,
        adam_beta2=t.adam_beta2,
        adam_epsilon=t.adam_epsilon,
        weight_decay=t.weight_decay,  # not on biases and norms: decay_parameter_names
        seed=t.seed,
        data_seed=t.seed,
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        batch_order=t.batch_order,  # bucketed: OrderedTrainer's sampler
        batch_tokens=t.batch_tokens,  # set: OrderedTrainer's token-budget batches instead
        train_sampling_strategy="random" if t.batch_order == "random" else "group_by_length",
        activation_checkpointing=t.gradient_checkpointing,
        eval_strategy="epoch" if evaluate else "no",
        save_strategy="epoch" if select or resumable else "no",
        save_total_limit=1 if select or resumable else None,  # with select_best the Trainer also keeps the best
        load_best_model_at_end=select,
        metric_for_best_model="f1" if select else None,  # else the Trainer would still keep a "best" checkpoint
        greater_is_better=True if select else None,
        logging_steps=t.logging_steps,
        # a NaN/inf loss is logged as such instead of being averaged away, and no step waits on the GPU to ask
        logging_nan_inf_filter=False,
        report_to=backends(spec) or "none",
        disable_tqdm=True,
        dataloader_num_workers=t.dataloader_workers,
        dataloader_persistent_workers=t.dataloader_workers > 0,  # no new worker processes every epoch
        dataloader_pin_memory=t.pin_memory and cuda,  # on a CPU there is nothing to pin for
        torch_compile=t.torch_compile,
        use_liger_kernel=t.use_liger_kernel,
        save_only_model=not resumable,
        use_cpu=not cuda,
        **extra,
    )


def decay_parameter_names(model: torch.nn.Module) -> list[str]:
    """The parameters `train.weight_decay` applies to: the Trainer's own rule (every parameter except those of
    nn.LayerNorm modules and those whose name holds `bias`, `layernorm`, `rmsnorm` or a `norm` / `_norm` part,
    which catches LlamaRMSNorm's `input_layernorm`, `post_attention_layernorm` and the final `norm`).
    Frozen parameters are listed too; the optimizer only sees trainable ones."""
    return Trainer.get_decay_parameter_names(None, model)


def build_trainer(
    spec: Spec,
    model: torch.nn.Module,
    tokenizer,
    train_features: list[dict],
    dev_features: list[dict] | None,
    labels: LabelSet | None,
    out: Path,
    collator=None,
    resumable: bool = False,
    **arg_extra,
) -> Trainer:
    """The Trainer of every pipeline (the tagger, each OIE stage, SIFT): `training_arguments`, OrderedTrainer's
    batch order, `ProgressLines` and `resume_callbacks`. What differs between them is a parameter:

    - `dev_features`: rows scored at each epoch end (None: no evaluation during training, as in sift);
    - `labels`: the tag set of the dev span F1 (`metrics_from_logits`); None: no metrics (a generative model);
    - `collator`: None is `PadBatch` on the tokenizer's pad id (OIE: its relation inputs; sift: prompts);
    - `resumable`: checkpoints for `train_resumable` (see `training_arguments`);
    - `arg_extra`: more TrainingArguments (OIE: `label_names`, its forward taking relation inputs too).
    """
    from datasets import Dataset

    args = training_arguments(spec, out, has_dev=bool(dev_features), resumable=resumable, **arg_extra)
    trainer = OrderedTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(train_features),
        eval_dataset=Dataset.from_list(dev_features) if dev_features else None,
        data_collator=collator or PadBatch(tokenizer.pad_token_id, pad_to_multiple_of=8),
        compute_metrics=metrics_from_logits(labels, spec.eval.mode) if labels is not None else None,
        preprocess_logits_for_metrics=argmax_logits if labels is not None else None,
        callbacks=[ProgressLines(), *resume_callbacks(spec, resumable)],
    )
    trainer.remove_callback(PrinterCallback)  # ProgressLines prints the same, one readable line per log
    return trainer


class EpochSeededOrder(TrainerCallback):
    """Length-grouped batches drawn from a generator seeded by (data seed, epoch), not from the global RNG.

    Why: the Trainer's LengthGroupedSampler shuffles with the global torch RNG at the start of each epoch. A
    run resumed mid-epoch restores that RNG only after it has re-drawn the epoch's order, so its batches would
    differ from the uninterrupted run's (measured: weights off by 4e-5 after a resume in epoch 2). Seeded per
    epoch (as accelerate's seedable sampler does for random batches), the order of every epoch is a function of
    the seed alone, and a resumed run skips exactly the batches it already trained on.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def on_epoch_begin(self, args, state, control, train_dataloader=None, **kwargs):
        from transformers.trainer_pt_utils import LengthGroupedSampler

        batch_sampler = getattr(train_dataloader, "batch_sampler", None)
        if isinstance(batch_sampler, TokenBudgetBatches):
            batch_sampler.set_epoch(int(state.epoch or 0))
        sampler = getattr(batch_sampler, "sampler", None)
        if isinstance(sampler, LengthGroupedSampler):
            epoch = int(state.epoch or 0)  # whole epochs done = the epoch about to start
            sampler.generator = epoch_generator(self.seed, epoch)


class CheckpointEvery(TrainerCallback):
    """Also checkpoint every `steps` optimizer steps (`train.save_every_steps`), on top of each epoch end."""

    def __init__(self, steps: int) -> None:
        self.steps = steps

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step % self.steps == 0:
            control.should_save = True


def resume_callbacks(spec: Spec, resumable: bool = True) -> list[TrainerCallback]:
    """Callbacks a resumable training needs: the seeded batch order and, if asked, step checkpoints."""
    out: list[TrainerCallback] = [EpochSeededOrder(spec.train.seed)]
    if resumable and spec.train.save_every_steps:
        out.append(CheckpointEvery(spec.train.save_every_steps))
    return out


def train_resumable(trainer: Trainer, out: Path, resume: bool = True) -> None:
    """trainer.train(), continued from the last complete checkpoint in `out` when an interrupted run left one
    (`seqlab-spec run --resume`); the checkpoints are removed once training has finished.

    A fresh run folder has no checkpoints, so this only resumes inside a folder whose training was cut off.
    `resume=False`: train from the start whatever `out` holds (a Trainer built without `resumable`, whose
    checkpoints only select the best epoch), then remove them all the same.
    """
    from .checkpoints import discard_checkpoints, drop_incomplete_checkpoints, last_checkpoint

    last = None
    if resume:
        drop_incomplete_checkpoints(out)  # a kill while one was written: the Trainer would write into it again
        last = last_checkpoint(out)
    if last is not None:
        print(f"resuming training from {last} (step {last.name.rsplit('-', 1)[1]})", flush=True)
    log_into_run_folder(trainer, out.parent)
    from ..models.registry import quiet_progress

    with quiet_progress():  # each epoch's checkpoint save and the best model's reload stay out of the log
        trainer.train(resume_from_checkpoint=str(last) if last is not None else None)
    discard_checkpoints(out)


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
