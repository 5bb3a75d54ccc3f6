"""Spec -> {"train", "dev", "test"} sentences in BIO, checked: the one entry point from spec to data.

Order per split: read (format dispatch) -> data.limit -> declared vs found scheme -> BIO (repairs logged)
-> task.labels check. Then dev/test types never seen in train are counted and logged, and kept: dropping
them would flatter the scores. Warnings go to logging.getLogger("seqlab_spec") at WARNING.
Few-shot sampling (data.few_shot) is the caller's step (fewshot.py), after this.
"""

from __future__ import annotations

import importlib
import logging
from collections import Counter
from typing import Any

from ..datasets import resolve
from ..errors import DataError
from .readers import read_conll, read_hf, read_jsonl
from .schemes import TagError, detect_scheme, invalid_positions, to_bio
from .types import Sentence

log = logging.getLogger("seqlab_spec")

SPLITS = ("train", "dev", "test")


def _read_file(fmt: str, path: str, columns: Any, encoding: str, key: str) -> list[Sentence]:
    p = resolve(path)
    if fmt == "conll":
        return read_conll(p, columns.token, columns.label, columns.separator, encoding, key=key)
    if fmt == "jsonl":
        return read_jsonl(p, encoding, key=key)
    if fmt in ("ace", "maven"):
        events = importlib.import_module("seqlab_spec.data.events")
        if not p.exists():  # licensed / unbundled sets: where to get them, what to run instead
            raise DataError(events.missing_file_message(fmt, p, key))
        reader = events.read_ace if fmt == "ace" else events.read_maven
        return list(reader(p, encoding=encoding, key=key))
    raise DataError(f"data.format: {fmt!r} is not a file format this loader reads")


def _convert(sents: list[Sentence], scheme: str, source: str) -> list[Sentence]:
    """Check the declared scheme against the file, then convert to BIO, logging the repairs."""
    found = detect_scheme(s.tags for s in sents)
    n_spans = sum(t != "O" for s in sents for t in s.tags)
    if found == "iobes" and scheme != "iobes":
        s, i = next((s, i) for s in sents for i, t in enumerate(s.tags) if t[:2] in ("E-", "S-"))
        raise DataError(
            f"{s.where(i)}: tag {s.tags[i]!r} has an E-/S- prefix (IOBES) but task.scheme is {scheme}; "
            "set task.scheme: iobes"
        )
    if scheme == "iobes" and found != "iobes" and n_spans:
        raise DataError(
            f"{source}: task.scheme is iobes but no E-/S- tag occurs; the file looks like "
            f"{found.upper()}: set task.scheme: {found}"
        )
    if scheme == "iob1" and found == "bio" and n_spans:
        log.warning(
            "%s: task.scheme is iob1 but the file looks like BIO (spans open with B-); spans read "
            "the same, but outputs are written in task.scheme: set task.scheme: bio",
            source,
        )
    out: list[Sentence] = []
    total = 0
    first_bad: str | None = None
    for s in sents:
        if not s.tokens:
            raise DataError(f"{s.where()}: empty sentence (no tokens); remove it from the file")
        _refuse_o_type(s)
        try:
            bio, n = to_bio(s.tags, scheme)
        except TagError as e:
            raise DataError(f"{s.where(e.position)}: {e}; fix the line or set task.scheme") from None
        if n and first_bad is None:
            i = invalid_positions(s.tags, scheme)[0]
            first_bad = f"{s.where(i)}: {s.tags[i]!r}"
        total += n
        out.append(Sentence(s.tokens, bio, s.meta))
    if total:
        iob1 = (scheme, found) == ("bio", "iob1")
        hint = "; the file looks like IOB1: set task.scheme: iob1" if iob1 else ""
        log.warning(
            "%s: %d tag(s) break task.scheme %s (first at %s); read as seqeval reads them: "
            "a tag that continues no span starts one%s",
            source,
            total,
            scheme,
            first_bad,
            hint,
        )
    return out


def _refuse_o_type(s: Sentence) -> None:
    """`B-O` / `I-O`: what a naive IO -> BIO converter writes; read as a span type "O" it would be trained
    and scored as an entity."""
    for i, t in enumerate(s.tags):
        if len(t) == 3 and t[1] == "-" and t[2] == "O":
            raise DataError(
                f"{s.where(i)}: tag {t!r} names a span type called O, almost surely a conversion mistake (an "
                "IO -> BIO converter that prefixed the outside tag); write O for words outside spans"
            )


def _check_labels(sents: list[Sentence], allowed: list[str] | None, source: str) -> None:
    if allowed is None:
        return
    ok = set(allowed)
    outside: Counter[str] = Counter()
    first: str | None = None
    for s in sents:
        for i, t in enumerate(s.tags):
            if t != "O" and t[2:] not in ok:
                outside[t[2:]] += 1
                first = first or s.where(i)
    if outside:
        listed = ", ".join(f"{t} ({n})" for t, n in sorted(outside.items()))
        raise DataError(
            f"{first}: span type(s) not in task.labels [{', '.join(allowed)}]: {listed} "
            f"in {source}; add them to task.labels or fix the data"
        )


def _warn_unseen(out: dict[str, list[Sentence]], where: str) -> None:
    if "train" not in out:
        return
    seen = {t[2:] for s in out["train"] for t in s.tags if t.startswith("B-")}
    for split in ("dev", "test"):
        if split not in out:
            continue
        unseen: Counter[str] = Counter(
            t[2:] for s in out[split] for t in s.tags if t.startswith("B-") and t[2:] not in seen
        )
        if unseen:
            listed = ", ".join(f"{t}: {n}" for t, n in sorted(unseen.items()))
            log.warning(
                "%s%s: %d gold span(s) of types never seen in train (%s); kept: they count as misses",
                where,
                split,
                sum(unseen.values()),
                listed,
            )


def _finish(
    raw: dict[str, list[Sentence]], sources: dict[str, str], limits: Any, task: Any, where: str
) -> dict[str, list[Sentence]]:
    out: dict[str, list[Sentence]] = {}
    for split in SPLITS:
        if split not in raw:
            continue
        sents = raw[split]
        if not sents:
            raise DataError(f"{sources[split]}: no sentences in the {split} split; fix {where}{split}")
        n = getattr(limits, split)
        if n is not None:
            sents = sents[:n]
        sents = _convert(sents, task.scheme, sources[split])
        _check_labels(sents, task.labels, sources[split])
        out[split] = sents
    _warn_unseen(out, where)
    return out


def load_splits(spec: Any) -> dict[str, list[Sentence]]:
    """The train/dev/test splits the spec names (those present), BIO, limited and checked."""
    d = spec.data
    raw: dict[str, list[Sentence]] = {}
    sources: dict[str, str] = {}
    if d.format == "hf":
        if d.hf is None:
            raise DataError("data.hf: format hf needs data.hf (name; splits if not train/validation/test)")
        unknown = sorted(set(d.hf.splits) - set(SPLITS))
        if unknown:
            raise DataError(
                f"data.hf.splits: unknown key(s) {', '.join(unknown)}; keys are train, dev, test "
                "(values are the dataset's split names)"
            )
        for split, hf_split in d.hf.splits.items():
            raw[split] = read_hf(d.hf, hf_split)
            sources[split] = f"hf:{d.hf.name}[{hf_split}]"
    else:
        for split in SPLITS:
            path = getattr(d, split)
            if path:
                raw[split] = _read_file(d.format, path, d.columns, d.encoding, f"data.{split}")
                sources[split] = str(resolve(path))
    if not raw:
        raise DataError("data: no split to read; set data.train / data.dev / data.test")
    return _finish(raw, sources, d.limit, spec.task, "data.")


def load_target_splits(spec: Any) -> dict[str, list[Sentence]]:
    """The target domain's splits (data.target); format and columns default to the source data's."""
    d, t = spec.data, spec.data.target
    if t is None:
        raise DataError("data.target: not set; add data.target with the target domain's files")
    fmt = t.format or d.format
    if fmt == "hf":
        raise DataError(
            "data.target.format: hf is not supported for the target domain; give conll or jsonl files"
        )
    columns = t.columns or d.columns
    raw: dict[str, list[Sentence]] = {}
    sources: dict[str, str] = {}
    for split in SPLITS:
        path = getattr(t, split)
        if path:
            raw[split] = _read_file(fmt, path, columns, d.encoding, f"data.target.{split}")
            sources[split] = str(resolve(path))
    if not raw:
        raise DataError("data.target: no split to read; set data.target.train / dev / test")
    return _finish(raw, sources, t.limit, spec.task, "data.target.")
