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
from ..data.schemes import from_bio, spans
from ..data.types import Sentence
from ..evaluate import span_scores
from ..plots import learning_curve
from ..rundir import RUN_FILES, readable, write_json, write_jsonl, write_text
from ..spec import Spec

log = logging.getLogger("seqlab_spec")


@dataclass
class Prepared:
    splits: dict[str, list[Sentence]]
    labels: LabelSet


def prepare_data(spec: Spec) -> Prepared:
    """Read the splits, draw the few-shot training sample if asked, and fix the label set from train."""
    splits = load_splits(spec)
    fs = spec.data.few_shot
    if fs is not None:
        samples = sample_k_shot(splits["train"], fs.k, n=fs.sample + 1, require_span=fs.require_span, seed=fs.seed)
        splits["train"] = samples[fs.sample]
    labels = LabelSet.from_sentences(splits["train"], spec.task.labels)
    return Prepared(splits, labels)


def score_split(
    gold: list[Sentence], pred_tags: list[list[str]], truncated_words: int = 0, no_subword_words: int = 0
) -> dict:
    scores = span_scores([s.tags for s in gold], pred_tags)
    scores["truncated_words"] = truncated_words
    scores["no_subword_words"] = no_subword_words
    return scores


def prediction_rows(split: str, gold: list[Sentence], pred_tags: list[list[str]], scheme: str) -> list[dict]:
    """tokens, gold and predicted labels (in the data's scheme) and predicted spans, one row per sentence."""
    return [
        {
            "split": split,
            "tokens": s.tokens,
            "gold": from_bio(s.tags, scheme),
            "pred": from_bio(p, scheme),
            "spans": [[a, b, lab] for a, b, lab in spans(p)],
        }
        for s, p in zip(gold, pred_tags, strict=True)
    ]


def warn_truncated(split: str, n_words: int, n_sents: int, max_length: int, no_subword: int = 0) -> None:
    """What the model could not see: words cut by max_length, and words the tokenizer drops whole."""
    if n_words:
        log.warning(
            "%s: %d words in %d sentences lie beyond train.max_length=%d subwords; they are evaluated as O "
            "(raise train.max_length to include them)",
            split,
            n_words,
            n_sents,
            max_length,
        )
    if no_subword:
        log.warning(
            "%s: %d words have no subword for this tokenizer (zero-width or invisible characters only); "
            "scored as O, their labels are not trained",
            split,
            no_subword,
        )


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
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
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
    metrics = {**metrics, "meta": run_metadata(spec, wall_s)}
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
    """What the CLI prints at the end: F1 per split and a few predicted sentences."""
    lines = []
    for split in ("dev", "test"):
        if split in metrics:
            m = metrics[split]["micro"]
            lines.append(f"{split:5s} span F1 {m['f1']:.4f}  (P {m['precision']:.4f}  R {m['recall']:.4f})")
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
