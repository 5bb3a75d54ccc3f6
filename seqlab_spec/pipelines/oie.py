"""Method `oie-multitask`: event triggers coupled with OIE relation tags, for domain transfer (Dukić et al.,
EACL 2024 Findings). Steps: prepare_data -> build_model -> fit -> evaluate -> save; `run` = all of them, by
the pipeline driver (pipelines/driver.py) in the order notebook 02 calls them, so a notebook run and
`--no-notebook` give the same metrics. Its `fit` trains every stage of the regime in turn (few-shot: two).

Two domains: `data` is the source, `data.target` the target. The relation tags (O/B-REL/I-REL) of every
sentence come from the OIE system named by `signal` (the rule-based spaCy extractor, cached, or a file), for
training AND test sentences: `implicit` injection reads them as inputs at test time too, which is fair
because the extractor runs on any text without labels. `injection: none` is the vanilla baseline.

Regimes, and how the model is selected in each (no target label ever selects a model):
- in-domain: train on source train, keep the epoch with the best source-dev F1, test on source test;
- zero-shot: train on source train, select on source dev, test on target test;
- few-shot (sequential): stage 1 = zero-shot (selected on source dev); stage 2 continues training that model
  on k target sentences (each with >= 1 trigger, drawn from data.target.train with seed `train.seed`) for
  `train.epochs` epochs with the same optimiser settings and keeps the LAST weights: a target dev set big
  enough to select on would itself be more labeled target data than k;
- joint: one training on source train + the same k target sentences, selected on source dev.
Every loaded dev/test split of both domains is evaluated (`source_dev`, `source_test`, `target_dev`,
`target_test`); metrics["dev"] / metrics["test"] repeat the selection split (source dev) and the regime's test
split (source test in-domain, else target test) so summaries and reports read every method alike.
metrics["transfer"] records regime, injection, k and the sample seed; metrics["overlap"] the relation-tag vs
trigger overlap of each domain (signals/overlap.py; source train and target test).

One run trains one (k, sample). The runner expands `method.k` x `method.n_samples` into runs (sample i:
`train.seed + i`, which seeds both the draw and the training): `sweep.expand(spec)`, with the axes
`OieMultitaskMethod.sweep_axes` gives.

`method.mlm: true` adds a masked-LM loss on unlabeled target text to every training step of every stage (one
masked batch, DataCollatorForLanguageModeling, rides along each trigger batch; encoder base only). The text is
`data.target.unlabeled` (one sentence a line) or, when unset, the words of data.target.train (labels unread).
"""

from __future__ import annotations

# Heavy libraries (torch, transformers, matplotlib through .common) are imported inside the steps, so the
# runner can import this module without paying for them.
import logging
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..data.fewshot import has_span, sample_k_shot
from ..data.labels import LabelSet
from ..data.load import load_splits, load_target_splits
from ..data.types import Sentence
from ..datasets import resolve as resolve_data
from ..errors import DataError, ModelError, SpecError
from ..evaluate import plural
from ..spec import Spec
from ..spec.method import TRANSFER_REGIMES
from .driver import run_steps

if TYPE_CHECKING:
    import torch

    from ..models.multitask import OieTagger

__all__ = [
    "Fitted",
    "Stage",
    "TransferData",
    "build_model",
    "evaluate",
    "fit",
    "fit_stage",
    "k_shot",
    "load_for_predict",
    "predict",
    "prepare_data",
    "run",
    "save",
    "with_method",
]

log = logging.getLogger("seqlab_spec")
EVENT_FORMATS = ("ace", "maven")


# ------------------------------------------------------------------------------------------------ runs


def with_method(spec: Spec, **changes: Any) -> Spec:
    """A validated copy of the spec with method fields changed (e.g. injection="implicit")."""
    d = spec.model_dump(mode="json")
    d["method"].update(changes)
    return Spec.model_validate(d)


# ------------------------------------------------------------------------------------------------ data


@dataclass
class Stage:
    """One training pass: its sentences, and the dev split that selects its best epoch (None: the last)."""

    name: str
    train: list[Sentence]
    dev: str | None


@dataclass
class TransferData:
    """Both domains' splits (`source_train`, ..., `target_test`, `target_k`), the training stages, and the
    relation tags of every sentence seen so far (by tokens). `splits` and `labels` as in common.Prepared."""

    splits: dict[str, list[Sentence]]
    labels: LabelSet
    regime: str
    stages: list[Stage]
    eval_splits: list[str]
    selection: str | None
    test_split: str
    k: int | None = None
    sample_seed: int | None = None
    signal: Any = None  # spec.signal when relation tags are available, else None
    overlap: dict[str, dict] | None = None
    _rel: dict[tuple[str, ...], list[str]] = field(default_factory=dict, repr=False)

    def rel_tags(self, sentences: Sequence[Sentence]) -> list[list[str]]:
        """O/B-REL/I-REL per word, from the OIE system (computed, or read from its cache, on first use)."""
        if self.signal is None:
            raise SpecError(["signal.name: none gives no relation tags; set signal: {name: oie}"])
        missing = [s for s in sentences if tuple(s.tokens) not in self._rel]
        if missing:
            from ..signals import relation_tags

            for s, tags in zip(missing, relation_tags(missing, self.signal), strict=True):
                self._rel[tuple(s.tokens)] = tags
        return [self._rel[tuple(s.tokens)] for s in sentences]


def _check_one_run(spec: Spec) -> None:
    """What makes a valid oie-multitask spec one run (the spec's own rules are in spec/root.py, checked by
    `seqlab-spec validate`): a spec of several (k, sample) runs is expanded by the runner
    (OieMultitaskMethod.sweep_axes) before it gets here; called with one directly, it says how to expand it."""
    m = spec.method
    if m.name != "oie-multitask":
        raise SpecError([f"method.name: {m.name!r}; pipelines.oie runs method oie-multitask"])
    if m.regime in TRANSFER_REGIMES and (len(m.k) != 1 or m.n_samples != 1):
        raise SpecError(
            [
                f"method.k: {m.k} with method.n_samples: {m.n_samples} asks for {len(m.k) * m.n_samples} "
                "runs, and a run trains one (k, sample): expand them with a sweep, "
                f"sweep: {{method.k: {[[k] for k in m.k]}, train.seed: "
                f"{[spec.train.seed + i for i in range(m.n_samples)]}}} with method.n_samples: 1 "
                "(sweep.expand(spec) builds exactly these runs, as `seqlab-spec run` does)"
            ]
        )


def _check_event_files(spec: Spec) -> None:
    """Licensed/unbundled event sets (ACE 2005, MAVEN): a missing file says where to get it, what to run."""
    from ..data.events import missing_file_message

    domains = [("data", spec.data.format, spec.data)]
    if spec.data.target is not None:
        domains.append(("data.target", spec.data.target.format or spec.data.format, spec.data.target))
    for prefix, fmt, d in domains:
        if fmt not in EVENT_FORMATS:
            continue
        for split in ("train", "dev", "test"):
            path = getattr(d, split)
            if path and not resolve_data(path).is_file():
                raise DataError(missing_file_message(fmt, path, f"{prefix}.{split}"))


def k_shot(sentences: Sequence[Sentence], k: int, seed: int) -> list[Sentence]:
    """k target sentences that hold a trigger, drawn with Random(seed) (data.fewshot), in corpus order."""
    pool = sum(1 for s in sentences if has_span(s))
    if k > pool:
        raise DataError(
            f"method.k: {k} target sentences with a trigger asked for, but data.target.train has only {pool} "
            f"(of {len(sentences)}, after data.target.limit.train); lower method.k or raise the limit"
        )
    return sample_k_shot(sentences, k, n=1, require_span=True, seed=seed)[0]


def prepare_data(spec: Spec) -> TransferData:
    """Read both domains, draw the k-shot sample, lay out the stages, compute relation tags and overlaps."""
    _check_one_run(spec)
    _check_event_files(spec)
    m = spec.method
    splits = {f"source_{k}": v for k, v in load_splits(spec).items()}
    if spec.data.target is not None:
        splits.update({f"target_{k}": v for k, v in load_target_splits(spec).items()})
    if "source_train" not in splits:
        raise DataError("data.train: the source domain's training file is required")
    test_split = "source_test" if m.regime == "in-domain" else "target_test"
    if test_split not in splits:
        key = "data.test" if m.regime == "in-domain" else "data.target.test"
        raise DataError(f"{key}: method.regime {m.regime!r} tests on it; set it")
    selection = "source_dev" if "source_dev" in splits else None
    k = seed = None
    stages = [Stage("source", splits["source_train"], selection)]
    if m.regime in TRANSFER_REGIMES:
        if "target_train" not in splits:
            raise DataError(f"data.target.train: method.regime {m.regime!r} draws the k sentences from it")
        k, seed = m.k[0], spec.train.seed
        splits["target_k"] = k_shot(splits["target_train"], k, seed)
        if m.regime == "few-shot":
            stages.append(Stage("target", splits["target_k"], None))
        else:
            stages = [Stage("joint", splits["source_train"] + splits["target_k"], selection)]
    trained_on = [s for st in stages for s in st.train]
    labels = LabelSet.from_sentences(trained_on, spec.task.labels)
    evals = [n for n in ("source_dev", "source_test", "target_dev", "target_test") if n in splits]
    data = TransferData(
        splits, labels, m.regime, stages, evals, selection, test_split, k, seed,
        signal=spec.signal if spec.signal.name == "oie" else None,
    )
    if data.signal is not None:
        data.overlap = _overlap(data)
    from .common import data_summary

    print(data_summary(spec, splits, labels, _evaluated(spec, evals)), flush=True)
    return data


def _evaluated(spec: Spec, names: list[str]) -> list[str]:
    """The loaded dev/test splits of both domains that eval.splits names (unset: all of them)."""
    wanted = ("dev", "test") if spec.eval.splits is None else spec.eval.splits
    return [n for n in names if n.rsplit("_", 1)[1] in wanted]


def _overlap(data: TransferData) -> dict[str, dict]:
    """Relation tags vs gold triggers in each domain (source train, target test), before any training."""
    from ..signals.overlap import trigger_overlap

    out = {}
    for domain, split in (("source", "source_train"), ("target", "target_test")):
        if split in data.splits:
            sents = data.splits[split]
            out[domain] = {"split": split, **trigger_overlap(sents, data.rel_tags(sents))}
    return out


# ------------------------------------------------------------------------------------------------ model


def build_model(spec: Spec, labels: LabelSet) -> tuple[OieTagger, Any]:
    """OieTagger over the spec's backbone (an encoder, or a decoder unmasked by `method.unmask`)."""
    from transformers import AutoModel

    from ..models.encoder import lora_config
    from ..models.multitask import OieTagger
    from ..models.registry import from_pretrained, load_tokenizer, model_kind, resolve
    from ..signals.reltags import REL_LABELS
    from ..train import set_seed

    _check_one_run(spec)
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


# ------------------------------------------------------------------------------------------------ training


def features(spec: Spec, tokenizer, data: TransferData, sentences: Sequence[Sentence]) -> list[dict]:
    """Trainer rows: input ids, first-subword trigger labels, and the relation inputs the injection reads
    (`rel_tags` on every subword for implicit, `rel_labels` on first subwords for explicit)."""
    from ..data.alignment import first_subword_labels
    from ..data.encoding import encode_words
    from ..models.multitask import rel_features
    from ..signals.reltags import REL_ID, REL_LABELS

    injection = spec.method.injection
    rel = data.rel_tags(sentences) if injection != "none" else [None] * len(sentences)
    keep = {"implicit": "rel_tags", "explicit": "rel_labels"}.get(injection)
    out = []
    for s, tags in zip(sentences, rel, strict=True):
        enc = encode_words(tokenizer, s.tokens, spec.train.max_length)
        ids = [data.labels.id(t) if t in data.labels else 0 for t in s.tags]
        row = {
            "input_ids": enc.input_ids,
            "attention_mask": [1] * len(enc.input_ids),
            "labels": first_subword_labels(enc.word_ids, ids),
            "length": len(enc.input_ids),
        }
        if keep is not None:
            row[keep] = rel_features(enc.word_ids, [REL_ID[t] for t in tags], len(REL_LABELS))[keep]
        out.append(row)
    return out


@dataclass
class Fitted:
    """The trained tagger and each stage's Trainer log (steps continue across stages in `log`)."""

    model: Any
    logs: list[tuple[str, list[dict]]] = field(default_factory=list)

    @property
    def log(self) -> list[dict]:
        rows, offset = [], 0
        for stage, history in self.logs:
            last = 0
            for r in history:
                row = {**r, "stage": stage}
                if "step" in row:
                    last = max(last, row["step"])
                    row["step"] = row["step"] + offset
                rows.append(row)
            offset += last
        return rows


def unlabeled_text(spec: Spec, data: TransferData) -> list[str]:
    """Target-domain text for the masked-LM pass: data.target.unlabeled, else data.target.train's words."""
    t = spec.data.target
    if t is not None and t.unlabeled:
        from ..data.text import bad_char, read_text, split_lines

        path = resolve_data(t.unlabeled)
        if not path.is_file():
            raise DataError(f"{path}: file not found; fix data.target.unlabeled (one sentence a line)")
        _, raw = read_text(path, spec.data.encoding, "data.target.unlabeled")
        text = []
        for i, line in enumerate(split_lines(raw), 1):
            bad = bad_char(line.replace("\t", " "))
            if bad:
                raise DataError(f"{path}:{i}: the line holds the control character {bad}; remove it")
            if line.strip():
                text.append(line.strip())
        return text
    if "target_train" in data.splits:
        log.info("method.mlm: masked-LM text = the words of data.target.train (its labels are not read)")
        return [" ".join(s.tokens) for s in data.splits["target_train"]]
    raise DataError(
        "method.mlm: needs unlabeled target-domain text: set data.target.unlabeled (one sentence a line) "
        "or data.target.train (its words are used, never its labels)"
    )


def mlm_batches(spec: Spec, tokenizer, texts: list[str]) -> Iterator[dict]:
    """Endless seeded masked-LM batches (15% of subwords masked, BERT's 80/10/10) over the texts."""
    import torch
    from transformers import DataCollatorForLanguageModeling

    rows = [
        {"input_ids": ids}
        for ids in tokenizer(texts, truncation=True, max_length=spec.train.max_length)["input_ids"]
    ]
    collate = DataCollatorForLanguageModeling(tokenizer, mlm=True, mlm_probability=0.15, pad_to_multiple_of=8)
    g = torch.Generator().manual_seed(spec.train.seed)
    size = spec.train.batch_size
    while True:
        order = torch.randperm(len(rows), generator=g).tolist()
        for i in range(0, len(order), size):
            yield collate([rows[j] for j in order[i : i + size]])


def fit_stage(
    spec: Spec,
    model: OieTagger,
    tokenizer,
    data: TransferData,
    stage: Stage,
    out: Path,
    resumable: bool = False,
) -> tuple[OieTagger, list[dict]]:
    """Train one stage with the Trainer (best `stage.dev` epoch loaded back, when there is one); checkpoints
    removed after. `resumable`: full checkpoints each epoch, and training continues from the last complete one
    found in `out` (`seqlab-spec run --resume`). Returns the trained tagger and the stage's log."""
    from ..models.multitask import MlmMixCollator, OieCollator, OieTaggerWithMlm
    from ..train import build_trainer, log_history, set_seed, train_resumable

    set_seed(spec.train.seed)
    train = features(spec, tokenizer, data, stage.train)
    dev = features(spec, tokenizer, data, data.splits[stage.dev]) if stage.dev else None
    collator: Any = OieCollator(tokenizer, rel_pad_id=model.rel_pad_id, pad_to_multiple_of=8)
    net: Any = model
    if spec.method.mlm:
        net = OieTaggerWithMlm(model)
        collator = MlmMixCollator(collator, mlm_batches(spec, tokenizer, unlabeled_text(spec, data)))
    trainer = build_trainer(
        spec, net, tokenizer, train, dev, data.labels, out, collator=collator, resumable=resumable,
        label_names=["labels"],
    )
    print(f"stage {stage.name}: {plural(len(train), 'sentence')}, select on {stage.dev or 'nothing (last weights)'}")
    train_resumable(trainer, out, resume=resumable)
    trained = trainer.model.tagger if spec.method.mlm else trainer.model
    return trained, log_history(trainer)


def stage_checkpoints(run_dir: Path, data: TransferData) -> list[Path]:
    """Each stage's checkpoint folder: `checkpoints` for the first, `checkpoints-<stage>` for later ones."""
    from ..train import CHECKPOINTS

    names = [CHECKPOINTS if i == 0 else f"{CHECKPOINTS}-{st.name}" for i, st in enumerate(data.stages)]
    return [Path(run_dir) / n for n in names]


def fit(spec: Spec, model: OieTagger, tokenizer, data: TransferData, run_dir: Path) -> Fitted:
    """Every stage of the regime in order (few-shot: source, then target), each continuing the last.

    Resumable like the tagger's fit: a run folder whose training was cut off continues from the last complete
    checkpoint of the latest stage that has one; the stages before it are skipped, since that checkpoint
    holds the whole model (their logs are then absent from train_log.jsonl). The masked-LM text order is not
    restored.
    """
    from ..checkpoints import last_checkpoint

    fitted = Fitted(model)
    folders = stage_checkpoints(run_dir, data)
    start = max((i for i, f in enumerate(folders) if last_checkpoint(f) is not None), default=0)
    for i, (stage, folder) in enumerate(zip(data.stages, folders, strict=True)):
        if i < start:
            print(f"stage {stage.name}: skipped; {data.stages[start].name} resumes from {folders[start]}")
            continue
        fitted.model, history = fit_stage(spec, fitted.model, tokenizer, data, stage, folder, resumable=True)
        fitted.logs.append((stage.name, history))
    return fitted


# ------------------------------------------------------------------------------------------------ evaluation


def _word_rel_ids(tags: list[list[str]]) -> dict[str, list[list[int]]]:
    from ..signals.reltags import REL_ID

    return {"rel_tags": [[REL_ID[t] for t in row] for row in tags]}


def score(
    spec: Spec, model: OieTagger, tokenizer, data: TransferData, names: Sequence[str]
) -> tuple[dict, list[dict]]:
    """Span scores (both readings) and prediction rows on the named splits (e.g. ["target_test"])."""
    from ..precision import autocast_dtype, resolve_precision
    from ..predict import predict_tags
    from .common import prediction_rows, score_split, warn_truncated

    metrics: dict[str, Any] = {}
    rows: list[dict] = []
    dtype = autocast_dtype(resolve_precision(spec.train.precision))
    for name in names:
        gold = data.splits[name]
        extra = _word_rel_ids(data.rel_tags(gold)) if spec.method.injection == "implicit" else None
        pred = predict_tags(
            model,
            tokenizer,
            [s.tokens for s in gold],
            data.labels,
            spec.train.max_length,
            spec.eval.batch_size,
            autocast=dtype,
            word_features=extra,
        )
        warn_truncated(
            name, pred.truncated_words, pred.truncated_sentences, spec.train.max_length, pred.no_subword_words
        )
        metrics[name] = score_split(gold, pred.tags, spec.eval.mode, pred.truncated_words, pred.no_subword_words)
        rows += prediction_rows(name, gold, pred.tags, spec.task.scheme, spec.eval.mode)
    return metrics, rows


def evaluate(spec: Spec, model: OieTagger, tokenizer, data: TransferData) -> tuple[dict, list[dict]]:
    """Span scores (both readings) on every loaded dev/test split of both domains (those `eval.splits` names), the
    prediction rows, the transfer settings and the overlap figures."""
    names = _evaluated(spec, data.eval_splits)
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
    from .common import write_run

    log = fitted.log if fitted else []
    return write_run(spec, run_dir, metrics, rows, log, wall_s, lambda d: save_oie_model(model, tokenizer, d))


def load_for_predict(model_dir: Path, spec: Spec) -> tuple[OieTagger, Any, LabelSet]:
    """(model, tokenizer, labels) from a run folder's model/ (an unmasked backbone gets its pattern back)."""
    from transformers import AutoTokenizer

    from ..models.multitask import OieTagger

    model = OieTagger.from_pretrained(model_dir)
    pattern = getattr(model.backbone.config, "unmask_pattern", None)
    if spec.method.base == "unmask" or pattern:
        _unmask(model.backbone, pattern or spec.method.unmask)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    cfg = model.backbone.config
    labels = LabelSet.from_json([cfg.id2label[i] for i in range(len(cfg.id2label))])
    return model.eval(), tokenizer, labels


def preflight(spec: Spec, splits: dict, config: Any) -> None:
    """Before any run folder (seqlab_spec.preflight): k target sentences to draw; a layer per unmask group."""
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
    from ..precision import autocast_dtype, resolve_precision
    from ..predict import predict_tags
    from ..signals import relation_tags

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
