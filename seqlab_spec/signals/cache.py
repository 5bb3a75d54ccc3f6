"""Relation tags for a list of sentences: computed once and cached, or read from another OIE system.

Parsing thousands of sentences with spaCy takes minutes on a laptop CPU, and every run of a transfer
experiment needs the same tags, so they are cached per input. The cache key is a content hash of the
tokens of all sentences plus `EXTRACTOR_VERSION` and the spaCy pipeline (name and version) actually
loaded: changing the data, the rules or the parser gives a new entry, nothing else does. Each entry is
a JSONL file, one {"tokens", "tags"} line per sentence: the same format `source: file` reads, so a
cached file can be inspected, edited, or swapped for another OIE system's output.

Cache folder: `$SEQLAB_CACHE/oie` (default `~/.cache/seqlab_spec/oie`; SEQLAB_CACHE is the project's
cache root, shared with the converted model weights).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..data.types import Sentence
from ..errors import DataError, SpecError
from . import oie
from .reltags import REL_LABELS, relation_tags_for


def cache_dir() -> Path:
    """`$SEQLAB_CACHE/oie`, default `~/.cache/seqlab_spec/oie`."""
    root = os.environ.get("SEQLAB_CACHE") or str(Path.home() / ".cache" / "seqlab_spec")
    return Path(root).expanduser() / "oie"


def cache_key(token_lists: Sequence[Sequence[str]], pipeline: str, pipeline_version: str) -> str:
    """sha256 of the tokens of every sentence, the extractor version and the resolved pipeline."""
    h = hashlib.sha256()
    h.update(json.dumps([oie.EXTRACTOR_VERSION, pipeline, pipeline_version]).encode("utf-8"))
    for tokens in token_lists:
        h.update(b"\n")
        h.update(json.dumps(list(tokens), ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()


def relation_tags(sentences: Sequence[Sentence], signal_spec: Any) -> list[list[str]]:
    """One O/B-REL/I-REL tag list per sentence, as `signal_spec` (a spec.signal.SignalSpec) asks."""
    if signal_spec.name != "oie":
        raise SpecError(
            [f"signal.name: {signal_spec.name!r} asks for no relation tags; set signal.name: oie"]
        )
    token_lists = [list(s.tokens) for s in sentences]
    if signal_spec.source == "file":
        if not signal_spec.path:
            raise SpecError(
                ["signal.path: `source: file` needs the JSONL of precomputed tags ({tokens, tags})"]
            )
        return read_tag_file(signal_spec.path, token_lists)
    return spacy_relation_tags(token_lists, signal_spec.pipeline)


def spacy_relation_tags(
    token_lists: Sequence[Sequence[str]], pipeline: str = oie.DEFAULT_PIPELINE, progress: bool = True
) -> list[list[str]]:
    """Tags from the built-in extractor, read from the cache when this exact input was seen before."""
    resolved, version = oie.resolve_pipeline(pipeline)
    path = cache_dir() / f"{cache_key(token_lists, resolved, version)}.jsonl"
    cached = _read_cache(path, token_lists)
    if cached is not None:
        return cached
    triples = oie.extract(token_lists, pipeline=pipeline, progress=progress)
    tags = [relation_tags_for(len(toks), ts) for toks, ts in zip(token_lists, triples, strict=True)]
    _write_cache(path, token_lists, tags)
    return tags


def _read_cache(path: Path, token_lists: Sequence[Sequence[str]]) -> list[list[str]] | None:
    """The cached tags, or None when absent or unreadable (then it is recomputed and rewritten)."""
    if not path.is_file():
        return None
    try:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if len(rows) != len(token_lists):
        return None
    out = []
    for row, tokens in zip(rows, token_lists, strict=True):
        if not isinstance(row, dict) or row.get("tokens") != list(tokens):
            return None
        tags = row.get("tags")
        if not isinstance(tags, list) or len(tags) != len(tokens) or not set(tags) <= set(REL_LABELS):
            return None
        out.append(tags)
    return out


def _write_cache(path: Path, token_lists: Sequence[Sequence[str]], tags: list[list[str]]) -> None:
    """Atomic write (temp file + rename): an interrupted run never leaves a half entry."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    with tmp.open("w", encoding="utf-8") as f:
        for tokens, t in zip(token_lists, tags, strict=True):
            f.write(json.dumps({"tokens": list(tokens), "tags": t}, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def read_tag_file(path: str | Path, token_lists: Sequence[Sequence[str]]) -> list[list[str]]:
    """Precomputed tags ({tokens, tags} per line) of any OIE system, matched to the data's sentences.

    A file with one line per sentence in the same order is read as is; otherwise each sentence is looked
    up by its tokens, so one file may cover several splits or both domains.
    """
    p = Path(path)
    entries = _read_entries(p)
    if len(entries) == len(token_lists) and all(
        e[1] == list(t) for e, t in zip(entries, token_lists, strict=True)
    ):
        return [e[2] for e in entries]
    index: dict[tuple[str, ...], list[str]] = {}
    for _, tokens, tags in entries:
        index.setdefault(tuple(tokens), tags)
    out = []
    for i, tokens in enumerate(token_lists):
        tags = index.get(tuple(tokens))
        if tags is None:
            raise _mismatch(p, entries, i, tokens, len(token_lists))
        out.append(tags)
    return out


def _read_entries(p: Path) -> list[tuple[int, list[str], list[str]]]:
    """(line, tokens, tags) of every non-blank line, checked: JSON, fields, equal lengths, tag names."""
    if not p.is_file():
        raise DataError(f"{p}: file not found; fix signal.path (a JSONL of {{tokens, tags}} per sentence)")
    entries = []
    allowed = set(REL_LABELS)
    from ..data.text import decode, split_lines

    for lineno, line in enumerate(split_lines(decode(p.read_bytes(), "utf-8", p, what="")), start=1):
        if not line.strip():
            continue
        where = f"{p}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"{where}: invalid JSON ({e.msg} at column {e.colno}); fix the line") from None
        if not isinstance(obj, dict) or "tokens" not in obj or "tags" not in obj:
            raise DataError(f'{where}: expected an object {{"tokens": [...], "tags": [...]}}')
        tokens, tags = obj["tokens"], obj["tags"]
        for name, seq in (("tokens", tokens), ("tags", tags)):
            if not isinstance(seq, list) or not all(isinstance(x, str) for x in seq):
                raise DataError(f"{where}: {name!r} must be a list of strings")
        if len(tokens) != len(tags):
            raise DataError(f"{where}: {len(tokens)} tokens but {len(tags)} tags; give one tag per token")
        bad = sorted(set(tags) - allowed)
        if bad:
            raise DataError(
                f"{where}: tag {bad[0]!r} is not one of {', '.join(REL_LABELS)}; "
                "map the OIE system's relation words to B-REL/I-REL and the rest to O"
            )
        entries.append((lineno, tokens, tags))
    if not entries:
        raise DataError(f"{p}: no lines; fix signal.path")
    return entries


def _preview(tokens: Sequence[str], n: int = 8) -> str:
    return " ".join(tokens[:n]) + (" ..." if len(tokens) > n else "")


def _mismatch(
    p: Path, entries: list[tuple[int, list[str], list[str]]], i: int, tokens: Sequence[str], n: int
) -> DataError:
    """Name the line that should have held sentence i when the file is line-aligned, else the sentence."""
    fix = "regenerate the file from the data's own tokenization (one {tokens, tags} line per sentence)"
    if len(entries) == n:
        lineno, ftoks, _ = entries[i]
        return DataError(
            f"{p}:{lineno}: tokens differ from sentence {i} of the data ({len(ftoks)} vs {len(tokens)} "
            f"tokens; file: {_preview(ftoks)!r}, data: {_preview(tokens)!r}); {fix}"
        )
    return DataError(
        f"{p}: no line holds the tokens of sentence {i} of the data ({_preview(tokens)!r}; the file has "
        f"{len(entries)} lines for {n} sentences); {fix}"
    )
