"""Method `oie-multitask`: event triggers coupled with OIE relation tags, for domain transfer (Dukić et al.,
EACL 2024 Findings). Steps: prepare_data -> build_model -> fit -> evaluate -> save; `run` = all of them, by
the pipeline driver (pipelines/driver.py) in the order notebook 02 calls them, so a notebook run and
`--no-notebook` give the same metrics. This module holds the model, the evaluation and the run folder; the
data, stages and relation features are oie_data.py's, the training of the stages oie_train.py's (both
re-exported here: `oie.prepare_data`, `oie.fit`, ... are the method's steps).

Two domains: `data` is the source, `data.target` the target. The relation tags (O/B-REL/I-REL) of every
sentence come from the OIE system named by `signal` (the rule-based spaCy extractor, cached, or a file), for
training AND test sentences: `implicit` injection reads them as inputs at test time too, which is fair
because the extractor runs on any text without labels. `injection: none` is the vanilla baseline.

Regimes, and how the model is selected in each (no target label ever selects a model):
- in-domain: train on source train, keep the epoch with the best source-dev F1, test on source test;
- zero-shot: train on source train, select on source dev, test on target test;
- few-shot (sequential, the one regime whose `fit` trains two stages): stage 1 = zero-shot (selected on source
  dev); stage 2 continues training that model on k target sentences (each with >= 1 trigger, drawn from
  data.target.train with seed `train.seed`) for `train.epochs` epochs with the same optimiser settings and keeps
  the LAST weights: a target dev set big enough to select on would itself be more labeled target data than k;
- joint: one training on source train + the same k target sentences, selected on source dev.
Every loaded dev/test split of both domains is evaluated (`source_dev`, `source_test`, `target_dev`,
`target_test`); metrics["dev"] / metrics["test"] repeat the selection split (source dev) and the regime's test
split (source test in-domain, else target test) so summaries and reports read every method alike.
metrics["transfer"] records regime, injection, k and the sample seed; metrics["overlap"] the relation-tag vs
trigger overlap of each domain (signals/overlap.py; source train and target test).

One run trains one (k, sample). The runner expands `method.k` x `method.n_samples` into runs (sample i:
`train.seed + i`, which seeds both the draw and the training): `sweep.expand(spec)`, with the axes
`OieMultitaskMethod.sweep_axes` gives.
"""

from __future__ import annotations

# Heavy libraries (torch, transformers, matplotlib through .common) are imported inside the steps, so the
# runner can import this module without paying for them.
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..data.labels import LabelSet
from ..data.types import Sentence
from ..errors import DataError, ModelError
from ..spec import Spec
from ..spec.method import TRANSFER_REGIMES
from .driver import run_steps
from .oie_data import (
    Stage,
    TransferData,
    check_one_run,
    evaluated,
    features,
    k_shot,
    mlm_batches,
    prepare_data,
    unlabeled_text,
    with_method,
)
from .oie_train import Fitted, fit, fit_stage, stage_checkpoints

if TYPE_CHECKING:
    import torch

    from ..models.oie_tagger import OieTagger

__all__ = [
    "Fitted",
    "Stage",
    "TransferData",
    "build_model",
    "evaluate",
    "features",
    "fit",
    "fit_stage",
    "k_shot",
    "load_for_predict",
    "mlm_batches",
    "predict",
    "prepare_data",
    "run",
    "save",
    "stage_checkpoints",
    "unlabeled_text",
    "with_method",
]


# ------------------------------------------------------------------------------------------------ model


def build_model(spec: Spec, labels: LabelSet) -> tuple[OieTagger, Any]:
    """OieTagger over the spec's backbone (an encoder, or a decoder unmasked by `method.unmask`)."""
    from transformers import AutoModel

    from ..models.encoder import lora_config
    from ..models.oie_tagger import OieTagger
    from ..models.registry import from_pretrained, load_tokenizer, model_kind, resolve
    from ..signals.reltags import REL_LABELS
    from ..training.train import set_seed

    check_one_run(spec)
    m = spec.method
    set_seed(spec.train.seed)
    resolved = resolve(spec.model.name)
    problem = m.model_kind_problem(spec.model.name, model_kind(resolved))  # a folder or hub id: its config
    if problem:
        raise ModelError(problem)
    tokenizer = load_tokenizer(resolved)
    kwargs: dict[str, Any] = {"revision": spec.model.revision}
    kwargs["trust_remote_code"] = spec.model.trust_remote_code
    if spec.model.attn_implementation != "auto":
        kwargs["attn_implementation"] = spec.model.attn_implementation
    backbone = from_pretrained(AutoModel.from_pretrained, resolved, **kwargs)
    backbone.config.id2label = dict(enumerate(labels.labels))  # saved with the backbone: predict reads it
    backbone.config.label2id = {lab: i for i, lab in enumerate(labels.labels)}
    if m.base == "unmask":
        _unmask(backbone, m.unmask)
    if spec.model.peft.method == "lora":
        from peft import get_peft_model

        backbone = get_peft_model(backbone, lora_config(spec.model.peft, "FEATURE_EXTRACTION"))
    model = OieTagger(
        backbone,
        len(labels),
        injection=m.injection,
        n_rel_labels=len(REL_LABELS),
        tag_dim=m.tag_dim,
        rel_weight=spec.signal.weight,
    )
    return model, tokenizer


def _unmask(backbone: torch.nn.Module, pattern: str) -> None:
    """Layer-group unmasking (models/unmask.py) on a decoder backbone."""
    from ..models.unmask import apply_unmask

    backbone.config.use_cache = False  # an unmasked layer re-reads the whole sentence: no KV cache
    apply_unmask(backbone, pattern)


# ------------------------------------------------------------------------------------------------ evaluation


def _word_rel_ids(tags: list[list[str]]) -> dict[str, list[list[int]]]:
    from ..signals.reltags import REL_ID

    return {"rel_tags": [[REL_ID[t] for t in row] for row in tags]}


def score(
    spec: Spec, model: OieTagger, tokenizer, data: TransferData, names: Sequence[str]
) -> tuple[dict, list[dict]]:
    """Span scores (both readings) and prediction rows on the named splits (e.g. ["target_test"]): the taggers'
    evaluation (`common.score_tagger`), with the relation tags as inputs under implicit injection."""
    from .common import score_tagger

    rel = (lambda gold: _word_rel_ids(data.rel_tags(gold))) if spec.method.injection == "implicit" else None
    return score_tagger(spec, model, tokenizer, data.labels, {n: data.splits[n] for n in names}, rel)


def evaluate(spec: Spec, model: OieTagger, tokenizer, data: TransferData) -> tuple[dict, list[dict]]:
    """Span scores (both readings) on every loaded dev/test split of both domains (those `eval.splits` names), the
    prediction rows, the transfer settings and the overlap figures."""
    names = evaluated(spec, data.eval_splits)
    metrics, rows = score(spec, model, tokenizer, data, names)
    if data.selection in metrics:
        metrics["dev"] = metrics[data.selection]
    if data.test_split in metrics:
        metrics["test"] = metrics[data.test_split]
    metrics["transfer"] = {
        "regime": data.regime,
        "injection": spec.method.injection,
        "base": spec.method.base,
        "mlm": spec.method.mlm,
        "k": data.k,
        "sample_seed": data.sample_seed,
        "selection": data.selection,
        "test_split": data.test_split,
        "stages": [
            {"name": st.name, "train_sentences": len(st.train), "selection": st.dev} for st in data.stages
        ],
    }
    metrics["overlap"] = data.overlap
    return metrics, rows


# ------------------------------------------------------------------------------------------------ run folder


def save_oie_model(model: OieTagger, tokenizer, dest: Path) -> None:
    """OieTagger.save_pretrained (LoRA merged into the backbone first) plus the tokenizer."""
    if hasattr(model.backbone, "merge_and_unload"):
        model.backbone = model.backbone.merge_and_unload()
    model.save_pretrained(dest)
    tokenizer.save_pretrained(dest)


def save(
    spec: Spec,
    run_dir: Path,
    model,
    tokenizer,
    fitted: Fitted | None,
    metrics: dict,
    rows: list[dict],
    wall_s: float,
    data: TransferData | None = None,
) -> dict:
    """Write metrics, predictions, the training log and curve, and the model; returns the metrics (`data`: the
    driver passes every method's; the OIE model folder needs none of it)."""
    from ..runner.rundir import write_run

    log = fitted.log if fitted else []
    return write_run(spec, run_dir, metrics, rows, log, wall_s, lambda d: save_oie_model(model, tokenizer, d))


def load_for_predict(model_dir: Path, spec: Spec) -> tuple[OieTagger, Any, LabelSet]:
    """(model, tokenizer, labels) from a run folder's model/ (an unmasked backbone gets its pattern back)."""
    from transformers import AutoTokenizer

    from ..models.oie_tagger import OieTagger

    model = OieTagger.from_pretrained(model_dir)
    pattern = getattr(model.backbone.config, "unmask_pattern", None)
    if spec.method.base == "unmask" or pattern:
        _unmask(model.backbone, pattern or spec.method.unmask)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    cfg = model.backbone.config
    labels = LabelSet.from_json([cfg.id2label[i] for i in range(len(cfg.id2label))])
    return model.eval(), tokenizer, labels


def preflight(spec: Spec, splits: dict, config: Any) -> None:
    """Before any run folder (seqlab_spec.runner.preflight): k target sentences to draw; a layer per unmask group."""
    m = spec.method
    if m.regime in TRANSFER_REGIMES:
        target = splits.get("target_train")
        if target is None:
            raise DataError(f"data.target.train: regime {m.regime} samples from it: set data.target.train")
        if max(m.k) > len(target):
            raise DataError(
                f"method.k: {max(m.k)} target sentences asked for, but data.target.train holds {len(target)}; "
                f"lower method.k"
            )
    if m.base == "unmask":
        from ..models.unmask import check_fits

        check_fits(m.unmask, config)


def run(spec: Spec, run_dir: Path) -> dict:
    """All steps, by the pipeline driver (what `seqlab-spec run --no-notebook` does)."""
    return run_steps(sys.modules[__name__], spec, run_dir)


def predict(model_dir: Path, spec: Spec, sentences: list[list[str]], batch_size: int = 64) -> list[list[str]]:
    """BIO tags for new sentences with a saved run model; implicit injection runs the OIE system on them."""
    return predict_detailed(model_dir, spec, sentences, batch_size).tags


def predict_detailed(model_dir: Path, spec: Spec, sentences: list[list[str]], batch_size: int = 64):
    """`predict` with the words per sentence the model could not see (a predict.TagPredictions)."""
    from ..evaluation.predict import predict_tags
    from ..signals import relation_tags
    from ..training.precision import autocast_dtype, resolve_precision

    model, tokenizer, labels = load_for_predict(Path(model_dir), spec)
    extra = None
    if model.injection == "implicit":
        plain = [Sentence(list(words), ["O"] * len(words)) for words in sentences]
        extra = _word_rel_ids(relation_tags(plain, spec.signal))
    dtype = autocast_dtype(resolve_precision(spec.train.precision))
    pred = predict_tags(
        model, tokenizer, sentences, labels, spec.train.max_length, batch_size, autocast=dtype,
        word_features=extra,
    )
    return pred
