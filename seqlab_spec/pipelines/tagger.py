"""Taggers (methods `encoder` and `unmask`): data -> model -> Trainer -> evaluation -> run folder.

Each function is one step of the teaching notebooks; `run` calls them in the same order (pipelines/driver.py),
so a notebook run and `--no-notebook` give the same metrics. Which tagger a method trains is what its spec
section declares (`MethodSection.model_kind`): "encoder", an encoder with a token-classification head
(models/encoder.py); "decoder", a decoder LLM with unmasked layer groups and a linear head
(models/decoder_tagger.py, which reads the section's `unmask` pattern and `head_dropout`). No method name is
read here, so another tagger method is its section and its registry row.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from ..data.labels import LabelSet
from ..errors import SpecError
from ..evaluation.predict import TagPredictions, predict_tags
from ..runner.rundir import write_run
from ..spec import Spec
from ..training.precision import autocast_dtype, resolve_precision
from ..training.train import CHECKPOINTS, build_trainer, log_history, set_seed, tagging_features, train_resumable
from .common import Prepared, eval_splits, prepare_data, score_tagger
from .driver import run_steps

__all__ = [
    "prepare_data", "build_model", "fit", "evaluate", "save", "run", "load_for_predict", "predict", "predict_detailed"
]


def decoder(spec: Spec) -> bool:
    """True when the method's section declares a decoder tagger (model_kind "decoder"), False for an encoder;
    SpecError for a section that declares neither (model_kind None: either kind, which a tagger cannot build)."""
    kind = spec.method.model_kind
    if kind not in ("encoder", "decoder"):
        raise SpecError(
            [
                f"method.name: {spec.method.name!r} runs the tagger pipeline, which builds the model kind its section "
                f"declares; {type(spec.method).__name__}.model_kind is {kind!r}: declare 'encoder' or 'decoder'"
            ]
        )
    return kind == "decoder"


def build_model(spec: Spec, labels: LabelSet) -> tuple[torch.nn.Module, object]:
    """The tagger for the spec's method: an encoder with a head, or a decoder with unmasked layer groups."""
    set_seed(spec.train.seed)
    if decoder(spec):
        from ..models.decoder_tagger import build_decoder_tagger

        return build_decoder_tagger(spec, labels)
    from ..models.encoder import build_encoder

    model, tokenizer, _ = build_encoder(spec.model, labels)
    return model, tokenizer


def fit(spec: Spec, model: torch.nn.Module, tokenizer, data: Prepared, run_dir: Path):
    """Train with the Trainer; the best dev-F1 checkpoint is loaded back at the end, then checkpoints removed.

    Checkpoints (run_dir/checkpoints, each epoch and every train.save_every_steps steps) let an interrupted
    run continue where it stopped: in a folder that holds some, training resumes from the last complete one.
    """
    set_seed(spec.train.seed)
    ml = spec.train.max_length
    train = tagging_features(data.splits["train"], tokenizer, data.labels, ml)
    dev = tagging_features(data.splits["dev"], tokenizer, data.labels, ml) if "dev" in data.splits else None
    ckpt = Path(run_dir) / CHECKPOINTS
    trainer = build_trainer(spec, model, tokenizer, train, dev, data.labels, ckpt, resumable=True)
    train_resumable(trainer, ckpt)
    return trainer


def evaluate(spec: Spec, model: torch.nn.Module, tokenizer, data: Prepared) -> tuple[dict, list[dict]]:
    """Span scores per split over every gold word (both readings, eval.mode the headline), and the prediction
    rows with the model's raw tags (`common.score_tagger` on the evaluated splits)."""
    splits = {split: data.splits[split] for split in eval_splits(spec, data.splits)}
    return score_tagger(spec, model, tokenizer, data.labels, splits)


def save(
    spec: Spec, run_dir: Path, model, tokenizer, trainer, metrics: dict, rows: list[dict], wall_s: float,
    data: Prepared | None = None,
) -> dict:
    """Write metrics, predictions, the training log and curve, and the model; returns the metrics (`data`: the
    driver passes every method's; a tagger's model folder needs none of it)."""
    if decoder(spec):
        from ..models.decoder_tagger import save_decoder_tagger as saver
    else:
        from ..models.encoder import save_encoder as saver
    log = log_history(trainer) if trainer else []
    return write_run(spec, run_dir, metrics, rows, log, wall_s, lambda d: saver(model, tokenizer, d))


def load_for_predict(model_dir: Path, spec: Spec):
    """(model, tokenizer, labels) from a run folder's model/."""
    if decoder(spec):
        from ..models.decoder_tagger import load_decoder_tagger

        return load_decoder_tagger(model_dir)
    from ..models.encoder import load_encoder

    return load_encoder(model_dir)


def preflight(spec: Spec, splits: dict, config) -> None:
    """Before any run folder (seqlab_spec.runner.preflight): a decoder tagger's unmask pattern needs a layer per
    group."""
    if decoder(spec):
        from ..models.unmask import check_fits

        check_fits(spec.method.unmask, config)


def run(spec: Spec, run_dir: Path) -> dict:
    """All steps, by the pipeline driver (what `seqlab-spec run --no-notebook` does)."""
    return run_steps(sys.modules[__name__], spec, run_dir)


def predict_detailed(model_dir: Path, spec: Spec, sentences: list[list[str]], batch_size: int = 64) -> TagPredictions:
    """BIO tags for new sentences with a saved run model (same code path as the evaluation), with the words
    per sentence the model could not see."""
    model, tokenizer, labels = load_for_predict(model_dir, spec)
    dtype = autocast_dtype(resolve_precision(spec.train.precision))
    return predict_tags(model, tokenizer, sentences, labels, spec.train.max_length, batch_size, autocast=dtype)


def predict(model_dir: Path, spec: Spec, sentences: list[list[str]], batch_size: int = 64) -> list[list[str]]:
    """BIO tags for new sentences with a saved run model (same code path as the evaluation)."""
    return predict_detailed(model_dir, spec, sentences, batch_size).tags
