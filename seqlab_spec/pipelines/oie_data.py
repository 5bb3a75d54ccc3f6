"""Method `oie-multitask`, its data: both domains' splits, the k-shot draw, the training stages of each regime,
the relation tags of the OIE signal (computed once per sentence), and the Trainer rows that carry them.

`method.mlm: true` adds a masked-LM loss on unlabeled target text to every training step of every stage (one
masked batch, DataCollatorForLanguageModeling, rides along each trigger batch; encoder base only). The text is
`data.target.unlabeled` (one sentence a line) or, when unset, the words of data.target.train (labels unread):
`unlabeled_text`, `mlm_batches`.
"""

from __future__ import annotations

# Heavy libraries (torch, transformers) are imported inside the functions, so the runner can import the
# method without paying for them.
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..data.fewshot import has_span, sample_k_shot
from ..data.labels import LabelSet
from ..data.load import load_splits, load_target_splits
from ..data.types import Sentence
from ..datasets import resolve as resolve_data
from ..errors import DataError, SpecError
from ..spec import Spec
from ..spec.method import TRANSFER_REGIMES

log = logging.getLogger("seqlab_spec")
EVENT_FORMATS = ("ace", "maven")


def with_method(spec: Spec, **changes: Any) -> Spec:
    """A validated copy of the spec with method fields changed (e.g. injection="implicit")."""
    d = spec.model_dump(mode="json")
    d["method"].update(changes)
    return Spec.model_validate(d)


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


def check_one_run(spec: Spec) -> None:
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
    check_one_run(spec)
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

    print(data_summary(spec, splits, labels, evaluated(spec, evals)), flush=True)
    return data


def evaluated(spec: Spec, names: list[str]) -> list[str]:
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


def features(spec: Spec, tokenizer, data: TransferData, sentences: Sequence[Sentence]) -> list[dict]:
    """Trainer rows: the tagger's (`train.tagging_row`: input ids, first-subword trigger labels, length) and the
    relation inputs the injection reads (`rel_tags` on every subword for implicit, `rel_labels` on first
    subwords for explicit)."""
    from ..models.oie_tagger import rel_features
    from ..signals.reltags import REL_ID, REL_LABELS
    from ..training.train import tagging_row

    injection = spec.method.injection
    rel = data.rel_tags(sentences) if injection != "none" else [None] * len(sentences)
    keep = {"implicit": "rel_tags", "explicit": "rel_labels"}.get(injection)
    out = []
    for s, tags in zip(sentences, rel, strict=True):
        row, word_ids = tagging_row(s, tokenizer, data.labels, spec.train.max_length)
        if keep is not None:
            row[keep] = rel_features(word_ids, [REL_ID[t] for t in tags], len(REL_LABELS))[keep]
        out.append(row)
    return out


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
