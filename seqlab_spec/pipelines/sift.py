"""SIFT (method `sift`): data -> causal LM + LoRA -> response-loss training -> generation -> the same scores.

Each function is one step of notebook 04; `run` calls them in the same order (pipelines/driver.py), so a
notebook run and `--no-notebook` give the same metrics.

Choices, and why:
- Demonstrations always come from the training split (after `data.limit` / few-shot sampling): for a
  training sentence from the rest of the split (never itself), for dev/test/new sentences from all of it,
  chosen by `method.selection` with `train.seed`.
- No dev evaluation during training: scoring by generation costs minutes per pass on a CPU, and the dev
  loss of a response format says little about span F1. Training runs its steps (`train.epochs` /
  `train.max_steps`) and dev/test are scored once at the end; `train.eval_every` and `train.select_best`
  do not apply to sift. `train.max_length` does not apply either: `method.token_budget` bounds a prompt.
- The saved model folder holds the adapter, the tokenizer, `sift.json` (label types and every prompt
  setting) and `demos.jsonl` (the demonstration pool, i.e. the training split as trained on), so
  `predict` rebuilds exactly the evaluation prompts without the data files or SEQLAB_DATA.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch

from ..data.labels import LabelSet
from ..data.types import Sentence
from ..errors import DataError, ModelError
from ..runner.rundir import write_json, write_jsonl, write_run
from ..sift.collator import SiftCollator, build_train_examples
from ..sift.decode import Predictions, build_eval_prompts, predict_spans
from ..sift.demos import DemoSelector
from ..sift.prompt import PromptConfig
from ..spec import Spec
from ..training.precision import autocast_dtype, resolve_precision
from ..training.train import CHECKPOINTS, build_trainer, log_history, set_seed, train_resumable
from .common import (
    Prepared,
    eval_splits,
    prediction_rows,
    prepare_data,
    score_split,
)
from .driver import run_steps

__all__ = [
    "prepare_data",
    "build_model",
    "prompt_config",
    "selector_for",
    "train_examples",
    "fit",
    "evaluate",
    "save",
    "run",
    "load_for_predict",
    "predict",
    "strategy_sweep",
]

META_FILE = "sift.json"
POOL_FILE = "demos.jsonl"
FORMAT = 1


def build_model(spec: Spec, labels: LabelSet | None = None) -> tuple[torch.nn.Module, Any]:
    """The causal LM with LoRA (QLoRA when `model.quantization` says) and its tokenizer (pad token set).

    `labels` is unused (a generative model has no label head) and kept so every pipeline reads alike.
    """
    from ..models.generative import build_causal_lm

    set_seed(spec.train.seed)
    model, tokenizer, _ = build_causal_lm(spec.model, spec.train.precision, spec.train.gradient_checkpointing)
    return model, tokenizer


def prompt_config(spec: Spec, labels: LabelSet, tokenizer: Any) -> PromptConfig:
    """The prompt settings of this experiment: task, label types, instruction, format, end marker (eos)."""
    return PromptConfig.for_tokenizer(spec.method, labels.types, spec.task.type, tokenizer)


def selector_for(spec: Spec, pool: Sequence[Sentence]) -> DemoSelector:
    """Demonstration selection over the training split, seeded by `train.seed`."""
    return DemoSelector(pool, spec.method.selection, spec.train.seed)


def train_examples(
    spec: Spec, tokenizer: Any, train: Sequence[Sentence], cfg: PromptConfig, strategy: str | None = None
) -> list[dict]:
    """One prompt per training sentence (demos from the rest of the split), labels masked by the loss
    strategy (`spec.loss_strategy` unless `strategy` is given), plus `length` for length-grouped batches."""
    m = spec.method
    examples = build_train_examples(
        train, m.k, m.selection, cfg, strategy or spec.loss_strategy, tokenizer, m.token_budget,  # type: ignore[arg-type]
        seed=spec.train.seed, selector=selector_for(spec, train),
    )
    for ex in examples:
        ex["length"] = len(ex["input_ids"])
    return examples


def fit(spec: Spec, model: torch.nn.Module, tokenizer: Any, data: Prepared, run_dir: Path):
    """Train with the Trainer on response-masked prompts; no dev pass during training (see the module doc).

    Checkpoints (run_dir/checkpoints, each epoch and every train.save_every_steps steps; for LoRA the adapter
    and its optimizer state) let `seqlab-spec run --resume` continue an interrupted run where it stopped.
    """
    set_seed(spec.train.seed)
    cfg = prompt_config(spec, data.labels, tokenizer)
    examples = train_examples(spec, tokenizer, data.splits["train"], cfg)
    ckpt = Path(run_dir) / CHECKPOINTS
    collator = SiftCollator(tokenizer.pad_token_id, pad_to_multiple_of=8, logits_where_loss=True)
    trainer = build_trainer(spec, model, tokenizer, examples, None, None, ckpt, collator=collator, resumable=True)
    train_resumable(trainer, ckpt)
    return trainer


@contextlib.contextmanager
def _autocast(spec_precision: str, model: torch.nn.Module) -> Iterator[None]:
    dtype = autocast_dtype(resolve_precision(spec_precision))
    device = next(model.parameters()).device
    if dtype is None:
        yield
        return
    with torch.autocast(device_type=device.type, dtype=dtype):
        yield


def generate_split(
    spec: Spec,
    model: torch.nn.Module,
    tokenizer: Any,
    cfg: PromptConfig,
    selector: DemoSelector,
    queries: Sequence[Sentence],
    batch_size: int,
    split: str = "eval",
) -> Predictions:
    """Prompts with demonstrations from the selector's pool -> greedy batched generation -> parsed spans."""
    m = spec.method
    prompts = build_eval_prompts(queries, selector, m.k, cfg, tokenizer, m.token_budget, split)
    with _autocast(spec.train.precision, model):
        return predict_spans(model, tokenizer, prompts, queries, cfg, m.max_new_tokens, batch_size, m.decoding)


def evaluate(spec: Spec, model: torch.nn.Module, tokenizer: Any, data: Prepared) -> tuple[dict, list[dict]]:
    """Span scores per split (both readings, eval.mode the headline), with the parser's counts and generation
    speed; prediction rows carry the generated text next to gold and predicted labels."""
    cfg = prompt_config(spec, data.labels, tokenizer)
    selector = selector_for(spec, data.splits["train"])
    metrics: dict = {}
    rows: list[dict] = []
    for split in eval_splits(spec, data.splits):
        gold = data.splits[split]
        t0 = time.perf_counter()
        pred = generate_split(spec, model, tokenizer, cfg, selector, gold, spec.eval.batch_size, split)
        seconds = time.perf_counter() - t0
        scores = score_split(gold, pred.tags, spec.eval.mode)
        scores["parser"] = pred.counts
        n_new = sum(pred.new_tokens)
        scores["generation"] = {
            "new_tokens": n_new, "seconds": round(seconds, 2), "tokens_per_s": round(n_new / max(seconds, 1e-9), 1)
        }
        metrics[split] = scores
        split_rows = prediction_rows(split, gold, pred.tags, spec.task.scheme, spec.eval.mode)
        for row, text in zip(split_rows, pred.texts, strict=True):
            row["generated"] = text
        rows += split_rows
    return metrics, rows


def _settings(spec: Spec, cfg: PromptConfig) -> dict:
    m = spec.method
    return {
        "format": FORMAT,
        "base_model": spec.model.name,
        "loss_strategy": spec.loss_strategy,
        "prompt": {
            "labels": list(cfg.labels), "task": cfg.task, "instruction": cfg.instruction, "fmt": cfg.fmt,
            "none_word": cfg.none_word, "chat": cfg.chat, "end": cfg.end,
        },
        "k": m.k,
        "selection": m.selection,
        "seed": spec.train.seed,
        "token_budget": m.token_budget,
        "max_new_tokens": m.max_new_tokens,
        "decoding": m.decoding,
    }


def save_sift_model(model: torch.nn.Module, tokenizer: Any, spec: Spec, data: Prepared, dest: Path) -> None:
    """Adapter (or model) + tokenizer + prompt settings + demonstration pool, into `dest`."""
    from ..models.generative import save_causal_lm

    save_causal_lm(model, tokenizer, dest)
    write_json(dest / META_FILE, _settings(spec, prompt_config(spec, data.labels, tokenizer)))
    write_jsonl(dest / POOL_FILE, [{"tokens": s.tokens, "tags": s.tags} for s in data.splits["train"]])


def save(
    spec: Spec, run_dir: Path, model, tokenizer, trainer, metrics: dict, rows: list[dict], wall_s: float,
    data: Prepared,
) -> dict:
    """Write metrics, predictions, the training log and curve, and the model folder; returns the metrics."""
    log = log_history(trainer) if trainer else []
    return write_run(
        spec, run_dir, metrics, rows, log, wall_s, lambda d: save_sift_model(model, tokenizer, spec, data, d)
    )


def preflight(spec: Spec, splits: dict, config: Any) -> None:
    """Before any run folder (seqlab_spec.runner.preflight): a sentence is never its own demonstration, and the
    tokenizer can end a response (PromptConfig's checks, on the tokenizer alone: no weights are read)."""
    from ..models.registry import load_tokenizer, resolve

    labels = sorted({t[2:] for s in splits["train"] for t in s.tags if t != "O"}) or ["X"]
    PromptConfig.for_tokenizer(spec.method, labels, spec.task.type, load_tokenizer(resolve(spec.model.name)))
    k, n = spec.method.k, len(splits["train"])
    if k >= n:
        raise DataError(
            f"method.k: {k} demonstrations per prompt, but the training split holds {n} sentence(s) "
            f"(after data.limit / data.few_shot) and a sentence is never its own demonstration; "
            f"lower method.k to at most {max(n - 1, 0)} or train on more sentences"
        )


def run(spec: Spec, run_dir: Path) -> dict:
    """All steps, by the pipeline driver (what `seqlab-spec run --no-notebook` does)."""
    return run_steps(sys.modules[__name__], spec, run_dir)


STRATEGIES: tuple[str, ...] = ("vanilla", "src", "mrc")
# Notebook 04's strategy comparison: a few minutes per strategy on 2 CPU cores, a short run on a GPU.
COMPARE_DEFAULTS: dict[str, dict[str, Any]] = {
    "cpu": {"data.limit.train": 300, "data.limit.test": 40, "eval.splits": ["test"], "train.max_steps": 20,
            "train.batch_size": 8, "method.k": 1, "method.max_new_tokens": 40, "run.save_model": False},
    "cuda": {"data.limit.train": 2000, "data.limit.test": 500, "eval.splits": ["test"], "train.max_steps": 250,
             "run.save_model": False},
}


def strategy_sweep(spec: Spec, settings: dict[str, Any] | None = None, strategies: Sequence[str] = STRATEGIES) -> Spec:
    """`spec` with dotted `settings` applied and a sweep over `loss.strategy` (one run per strategy, the rest
    equal), named `<name>-strategies`: what notebook 04 compares, as `run_spec` runs and reports it."""
    from ..spec.overrides import set_path, split_path

    d = spec.model_dump(mode="json")
    for dotted, value in (settings or {}).items():
        set_path(d, split_path(dotted), value)
    d["sweep"] = {"loss.strategy": list(strategies)}
    d["name"] = f"{spec.name}-strategies"
    return Spec.model_validate(d)


def load_for_predict(model_dir: Path, spec: Spec) -> tuple[torch.nn.Module, Any, PromptConfig, DemoSelector]:
    """(model, tokenizer, prompt settings, selector over the stored demonstration pool) from a run's model/."""
    from ..models.generative import load_causal_lm

    model_dir = Path(model_dir)
    meta_path = model_dir / META_FILE
    if not meta_path.exists():
        raise ModelError(
            f"{model_dir}: no {META_FILE}; this is not a sift model folder (or it was saved by an older "
            "version): rerun the spec to save it again"
        )
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT:
        raise ModelError(f"{meta_path}: format {meta.get('format')!r}, this version reads {FORMAT}; rerun the spec")
    pool = [
        Sentence(r["tokens"], r["tags"], {"file": str(model_dir / POOL_FILE), "line": i})
        for i, r in enumerate(
            (json.loads(line) for line in (model_dir / POOL_FILE).read_text(encoding="utf-8").splitlines()), 1
        )
    ]
    p = meta["prompt"]
    cfg = PromptConfig(
        labels=tuple(p["labels"]), task=p["task"], instruction=p["instruction"], fmt=p["fmt"],
        none_word=p["none_word"], chat=p["chat"], end=p["end"],
    )
    model, tokenizer = load_causal_lm(model_dir, spec.model, spec.train.precision)
    return model, tokenizer, cfg, DemoSelector(pool, meta["selection"], meta["seed"])


def predict(model_dir: Path, spec: Spec, sentences: list[list[str]], batch_size: int = 64) -> list[list[str]]:
    """BIO tags for new sentences with a saved run model (the evaluation's prompts and generation)."""
    model, tokenizer, cfg, selector = load_for_predict(model_dir, spec)
    queries = [Sentence(list(words), ["O"] * len(words)) for words in sentences]
    return generate_split(spec, model, tokenizer, cfg, selector, queries, batch_size, "input").tags
