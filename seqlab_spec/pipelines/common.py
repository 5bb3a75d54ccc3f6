"""Steps every method shares: data preparation, evaluation records, the run folder's files."""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..data.fewshot import sample_k_shot
from ..data.labels import LabelSet
from ..data.load import load_splits
from ..data.schemes import from_bio, to_bio
from ..data.types import Sentence
from ..evaluate import READINGS, headline, plural, read_spans, split_scores
from ..plots import learning_curve
from ..rundir import RUN_FILES, readable, write_json, write_jsonl, write_text
from ..spec import Spec

log = logging.getLogger("seqlab_spec")


@dataclass
class Prepared:
    splits: dict[str, list[Sentence]]
    labels: LabelSet


def prepare_data(spec: Spec) -> Prepared:
    """Read the splits, draw the few-shot training sample if asked, fix the label set from train, and print
    what was found (`data_summary`)."""
    splits = load_splits(spec)
    fs = spec.data.few_shot
    if fs is not None:
        samples = sample_k_shot(splits["train"], fs.k, n=fs.sample + 1, require_span=fs.require_span, seed=fs.seed)
        splits["train"] = samples[fs.sample]
    labels = LabelSet.from_sentences(splits["train"], spec.task.labels)
    print(data_summary(spec, splits, labels, eval_splits(spec, splits)), flush=True)
    return Prepared(splits, labels)


def score_split(
    gold: list[Sentence], pred_tags: list[list[str]], mode: str, truncated_words: int = 0, no_subword_words: int = 0
) -> dict:
    """Both readings of the raw predicted tags (`evaluate.split_scores`), `mode` (eval.mode) the headline."""
    scores = split_scores([s.tags for s in gold], pred_tags, mode)
    scores["truncated_words"] = truncated_words
    scores["no_subword_words"] = no_subword_words
    return scores


def score_tagger(
    spec: Spec,
    model,
    tokenizer,
    labels: LabelSet,
    splits: dict[str, list[Sentence]],
    word_features: Callable[[list[Sentence]], dict[str, list[list[int]]]] | None = None,
) -> tuple[dict, list[dict]]:
    """A tagger's evaluation (the encoder/unmask taggers and OieTagger): batched prediction (`predict_tags`) on
    each named split, span scores over every gold word (both readings, eval.mode the headline) and the prediction
    rows with the model's raw tags. `word_features(gold)`: extra inputs per word (OIE's implicit relation tags)."""
    from ..precision import autocast_dtype, resolve_precision
    from ..predict import predict_tags

    metrics: dict = {}
    rows: list[dict] = []
    dtype = autocast_dtype(resolve_precision(spec.train.precision))
    for split, gold in splits.items():
        pred = predict_tags(
            model,
            tokenizer,
            [s.tokens for s in gold],
            labels,
            spec.train.max_length,
            spec.eval.batch_size,
            autocast=dtype,
            word_features=word_features(gold) if word_features else None,
        )
        warn_truncated(
            split, pred.truncated_words, pred.truncated_sentences, spec.train.max_length, pred.no_subword_words
        )
        metrics[split] = score_split(gold, pred.tags, spec.eval.mode, pred.truncated_words, pred.no_subword_words)
        rows += prediction_rows(split, gold, pred.tags, spec.task.scheme, spec.eval.mode)
    return metrics, rows


def prediction_rows(
    split: str, gold: list[Sentence], pred_tags: list[list[str]], scheme: str, mode: str
) -> list[dict]:
    """One row per sentence: tokens; `gold` and `pred`, BIO exactly as scored (`pred` is the model's raw tags,
    so seqeval strict IOB2 on these two gives the strict reading); `pred_conlleval`, the predicted tags as the
    conlleval reading repairs them; `spans`, the predicted spans of the headline reading (`mode`). With a
    task.scheme other than bio, `gold_<scheme>` / `pred_<scheme>` write gold and the repaired prediction in it."""
    rows = []
    for s, p in zip(gold, pred_tags, strict=True):
        row = {
            "split": split,
            "tokens": s.tokens,
            "gold": list(s.tags),
            "pred": list(p),
            "pred_conlleval": to_bio(p, "bio")[0],
            "spans": [[a, b, lab] for a, b, lab in read_spans(p, mode)],
        }
        if scheme != "bio":
            row[f"gold_{scheme}"], row[f"pred_{scheme}"] = from_bio(s.tags, scheme), from_bio(p, scheme)
        rows.append(row)
    return rows


def warn_truncated(split: str, n_words: int, n_sents: int, max_length: int, no_subword: int = 0) -> None:
    """What the model could not see: words cut by max_length, and words the tokenizer drops whole."""
    if n_words:
        log.warning(
            "%s: %s in %s lie beyond train.max_length=%d subwords; they are evaluated as O "
            "(raise train.max_length to include them)",
            split,
            plural(n_words, "word"),
            plural(n_sents, "sentence"),
            max_length,
        )
    if no_subword:
        log.warning(
            "%s: %d words have no subword for this tokenizer (zero-width or invisible characters only); "
            "scored as O, their labels are not trained",
            split,
            no_subword,
        )


def data_summary(spec: Spec, splits: dict[str, list[Sentence]], labels: LabelSet, evaluated: list[str]) -> str:
    """What the run is about to learn from, printed before training and shown by the notebooks: the span types
    (and where the tags were read), sentences/words per split, and the splits evaluated after training."""
    where = "task.labels" if spec.task.labels is not None else "the training sentences"
    if spec.data.format == "conll":
        where += f", tags from column {spec.data.columns.label} (data.columns.label) of the files"
    lines = [f"span types ({len(labels.types)}, from {where}): {', '.join(labels.types) or 'none'}"]
    for name, sents in splits.items():
        words = sum(len(s.tokens) for s in sents)
        n_spans = sum(t.startswith("B-") for s in sents for t in s.tags)
        lines.append(f"{name:5s} {plural(len(sents), 'sentence')}, {plural(words, 'word')}, {plural(n_spans, 'span')}")
    lines.append(
        f"evaluated after training: {', '.join(evaluated) or 'no split'} "
        f"(headline: {spec.eval.mode} reading)"
    )
    return "\n".join(lines)


def eval_splits(spec: Spec, splits: dict) -> list[str]:
    """The splits evaluated after training: eval.splits when set (the spec loader has checked the data names
    each), else every dev and test split the data has."""
    if spec.eval.splits is not None:
        return [s for s in spec.eval.splits if s in splits]
    return [s for s in ("dev", "test") if s in splits]


def run_metadata(spec: Spec, wall_s: float) -> dict:
    """What a run ran with. The thread count belongs here: on one CPU a spec and seed repeat bit for bit only
    with the same number of torch threads (reductions split differently)."""
    import peft
    import torch
    import transformers

    text = spec.model_dump_json()
    return {
        "seqlab_spec": __version__,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "peft": peft.__version__,
        "python": platform.python_version(),
        "device": "cuda" if torch.cuda.is_available() else "cpu",
        "torch_threads": torch.get_num_threads(),
        "spec_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "wall_seconds": round(wall_s, 1),
    }


def save_model_atomically(save: Callable[[Path], None], dest: Path) -> None:
    """save(tmp) then rename: a crash never leaves half a model in the run folder. A model an earlier attempt
    of a resumed run wrote is replaced (moved aside first, so `dest` is always one whole model)."""
    from ..models.registry import quiet_progress

    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        with quiet_progress():
            save(tmp)
        readable(tmp)
        if dest.exists():
            old = dest.with_name(f".{dest.name}.replaced-{os.getpid()}")
            dest.rename(old)
            tmp.rename(dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_run(
    spec: Spec,
    run_dir: Path,
    metrics: dict,
    predictions: list[dict],
    log_history: list[dict],
    wall_s: float,
    save_model: Callable[[Path], None],
) -> dict:
    """What every method leaves in its run folder: metrics (with the run's metadata), predictions, the
    training log and curve, then the model, written whole or not at all. Returns the metrics."""
    run_dir = Path(run_dir)
    scoring = {"headline": spec.eval.mode, **READINGS}
    metrics = {**metrics, "scoring": scoring, "meta": run_metadata(spec, wall_s)}
    write_json(run_dir / RUN_FILES["metrics"], metrics)
    write_jsonl(run_dir / RUN_FILES["predictions"], predictions)
    write_jsonl(run_dir / RUN_FILES["train_log"], log_history)
    if log_history:
        tmp = run_dir / f".{RUN_FILES['curve']}.tmp.png"
        learning_curve(log_history, tmp, title=spec.name)
        tmp.replace(run_dir / RUN_FILES["curve"])
    if spec.run.save_model:
        save_model_atomically(save_model, run_dir / RUN_FILES["model"])
    return metrics


def summary_lines(metrics: dict, predictions: list[dict], show: int) -> str:
    """What the CLI prints at the end: F1 per split in the headline reading (named, the other one beside it)
    and a few predicted sentences with their raw tags."""
    lines = []
    for split in ("dev", "test"):
        if split in metrics:
            mode, scores = headline(metrics[split])
            m = scores["micro"]
            others = [
                f"{o} {metrics[split][o]['micro']['f1']:.4f}" for o in READINGS if o != mode and o in metrics[split]
            ]
            lines.append(
                f"{split:5s} span F1 {m['f1']:.4f}  (P {m['precision']:.4f}  R {m['recall']:.4f}; {mode} reading"
                + "".join(f"; {x}" for x in others)
                + ")"
            )
    pool = [r for r in predictions if r["split"] == "test"] or predictions
    # sentences with a predicted span first: they show what the model does
    shown = sorted(pool, key=lambda r: all(p == "O" for p in r["pred"]))[:show]
    for r in shown:
        lines.append(
            "  " + " ".join(f"{t}/{p}" if p != "O" else t for t, p in zip(r["tokens"], r["pred"], strict=True))
        )
    return "\n".join(lines)


def write_resolved_spec(run_dir: Path, spec: Spec) -> None:
    import yaml

    write_text(run_dir / RUN_FILES["spec"], yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False))
