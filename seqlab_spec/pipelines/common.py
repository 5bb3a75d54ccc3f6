"""Steps every method shares: data preparation and evaluation records (their run folder: runner/rundir.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from ..data.fewshot import sample_k_shot
from ..data.labels import LabelSet
from ..data.load import load_splits
from ..data.schemes import from_bio, to_bio
from ..data.types import Sentence
from ..evaluation.scores import plural, read_spans, split_scores
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
    from ..evaluation.predict import predict_tags
    from ..training.precision import autocast_dtype, resolve_precision

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
