"""Readers: CoNLL-style columns, JSONL ({tokens, tags}) and Hugging Face datasets -> list[Sentence].

Readers keep tags as they are in the file (any scheme); `load.py` converts them to BIO. Every problem a
user can fix raises DataError naming file:line and what to change.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from ..errors import DataError
from .text import check_words, fix_key, read_text, split_lines
from .types import Sentence

_WS = re.compile(r"[ \t]+")  # ASCII blanks only: a token may hold a no-break or other Unicode space


def _needed(col: int) -> int:
    return col + 1 if col >= 0 else -col


def _split_columns(line: str, separator: str) -> list[str]:
    if separator == "tab":
        cols = [c.strip(" ") for c in line.split("\t")]
        while len(cols) > 1 and not cols[-1]:  # trailing tabs
            cols.pop()
        return cols
    return _WS.split(line.strip(" \t"))


def read_conll(
    path: str | Path,
    token_col: int = 0,
    label_col: int = -1,
    separator: Literal["whitespace", "tab"] = "whitespace",
    encoding: str = "utf-8",
    *,
    key: str | None = None,
) -> list[Sentence]:
    """Column file: one word a line, blank lines between sentences, `-DOCSTART-` lines skipped.

    Every word line must have the file's number of columns (the count most of its lines have): a line with
    more is a word holding a space under `separator: whitespace`, and would silently lose part of the word.
    `key` is the spec field the path came from (e.g. "data.train"), named when the file is missing.
    """
    if separator not in ("whitespace", "tab"):
        raise DataError(f"data.columns.separator: {separator!r} is not one of whitespace, tab")
    p, text = read_text(path, encoding, key)
    need = max(_needed(token_col), _needed(label_col))
    if (token_col < 0) != (label_col < 0):  # one counts from each end: they must not meet on one column
        need = max(need, _needed(token_col) + _needed(label_col))
    rows: list[tuple[int, list[str] | None]] = []  # (line, columns); None: a sentence boundary
    for lineno, line in enumerate(split_lines(text), start=1):
        cols = _split_columns(line, separator) if line.strip(" \t") else [""]
        if cols == [""] or cols[0].startswith("-DOCSTART-"):
            rows.append((lineno, None))
        else:
            rows.append((lineno, cols))
    counts = Counter(len(c) for _, c in rows if c is not None)
    usual = counts.most_common(1)[0][0] if counts else 0
    sentences: list[Sentence] = []
    tokens: list[str] = []
    tags: list[str] = []
    first = 0
    for lineno, cols in [*rows, (0, None)]:
        if cols is None:
            if tokens:
                meta = {"file": str(p), "line": first, "format": "conll"}
                check_words(tokens, tags, lambda i, f=first: f"{p}:{f + i}")
                sentences.append(Sentence(tokens, tags, meta))
            tokens, tags = [], []
            continue
        if len(cols) < need:
            raise DataError(
                f"{p}:{lineno}: expected at least {need} columns, found {len(cols)}; "
                "fix the line or set data.columns"
            )
        if len(cols) != usual:
            fix = (
                "if a word holds a space, separate the columns by tabs and set data.columns.separator: tab; "
                "else fix the line"
                if separator == "whitespace"
                else "fix the line"
            )
            raise DataError(
                f"{p}:{lineno}: {len(cols)} columns, but {counts[usual]} of the file's lines have {usual}; {fix}"
            )
        if not tokens:
            first = lineno
        tokens.append(cols[token_col])
        tags.append(cols[label_col])
    if not sentences:
        raise DataError(f"{p}: no sentences (only blank or -DOCSTART- lines); {fix_key(key)}")
    return sentences


def read_jsonl(
    path: str | Path,
    encoding: str = "utf-8",
    *,
    tokens_field: str = "tokens",
    tags_field: str = "tags",
    key: str | None = None,
) -> list[Sentence]:
    """One JSON object a line: {"tokens": [...], "tags": [...]} of equal, non-zero length."""
    p, text = read_text(path, encoding, key)
    sentences = parse_jsonl(text, str(p), tokens_field, tags_field)
    if not sentences:
        raise DataError(f"{p}: no sentences (only blank lines); {fix_key(key)}")
    return sentences


def parse_jsonl(
    text: str, source: str, tokens_field: str = "tokens", tags_field: str | None = "tags"
) -> list[Sentence]:
    """The sentences of JSONL text (blank lines skipped); `tags_field=None` reads words only (tags all O),
    as `predict` does."""
    sentences: list[Sentence] = []
    for lineno, line in enumerate(split_lines(text), start=1):
        if not line.strip():
            continue
        where = f"{source}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"{where}: invalid JSON ({e.msg} at column {e.colno}); fix the line") from None
        sentences.append(_record(obj, tokens_field, tags_field, where, {"file": source, "line": lineno}))
    return sentences


def _record(obj: Any, tokens_field: str, tags_field: str | None, where: str, meta: dict[str, Any]) -> Sentence:
    """Check one {tokens, tags} record (JSONL line or dataset row) and make it a Sentence."""
    fields = [f for f in (tokens_field, tags_field) if f is not None]
    if not isinstance(obj, dict):
        wanted = " and ".join(repr(f) for f in fields)
        raise DataError(f"{where}: expected an object with {wanted}, found {type(obj).__name__}")
    missing = [f for f in fields if f not in obj]
    if missing:
        raise DataError(f"{where}: missing field {missing[0]!r} (fields found: {', '.join(map(str, obj))})")
    tokens = obj[tokens_field]
    tags = obj[tags_field] if tags_field is not None else ["O"] * len(tokens) if isinstance(tokens, list) else []
    for name, seq in ((tokens_field, tokens), (tags_field, tags)):
        if not isinstance(seq, list) or not all(isinstance(x, str) for x in seq):
            raise DataError(f"{where}: {name!r} must be a list of strings")
    if len(tokens) != len(tags):
        raise DataError(f"{where}: {len(tokens)} tokens but {len(tags)} tags; every token needs one tag")
    if not tokens:
        raise DataError(f"{where}: empty sentence (no tokens); remove the line")
    check_words(tokens, tags, lambda i: where)
    return Sentence(list(tokens), list(tags), meta)


def _hf_local_saved(name: str) -> bool:
    d = Path(name)
    return d.is_dir() and ((d / "dataset_dict.json").exists() or (d / "state.json").exists())


def looks_like_path(name: str) -> bool:
    """A name no hub id can be (ids are `name` or `owner/name`): absolute, ./ ../ ~, two slashes, a backslash."""
    return (
        Path(name).is_absolute()
        or name.startswith((".", "~"))
        or name.count("/") > 1
        or "\\" in name
        or name.endswith("/")
    )


def read_hf(hf_source: Any, split: str) -> list[Sentence]:
    """A split of a Hugging Face dataset (`data.hf`): a hub name, a local data folder, or a
    `save_to_disk` folder. Class-id tags are mapped to names through the features' ClassLabel."""
    import datasets

    name, config = hf_source.name, getattr(hf_source, "config", None)
    tokens_field = getattr(hf_source, "tokens_field", "tokens")
    tags_field = getattr(hf_source, "tags_field", "ner_tags")
    if looks_like_path(name) and not Path(name).expanduser().exists():
        raise DataError(
            f"data.hf.name: {name}: folder not found (a path, so the hub is not asked); fix data.hf.name "
            "(relative paths resolve against the spec's folder)"
        )
    try:
        if _hf_local_saved(name):
            loaded = datasets.load_from_disk(name)
            if isinstance(loaded, datasets.DatasetDict):
                if split not in loaded:
                    raise KeyError(split)
                ds = loaded[split]
            else:
                ds = loaded
        else:
            ds = datasets.load_dataset(name, config, split=split)
    except (KeyError, ValueError) as e:
        if isinstance(e, KeyError) or "split" in str(e).lower():
            raise DataError(
                f"data.hf: dataset {name!r} has no split {split!r}; fix data.hf.splits ({e})"
            ) from None
        raise DataError(f"data.hf.name: cannot load {name!r}: {e}") from None
    except Exception as e:  # hub/network/file errors of every kind: all mean "cannot load this"
        raise DataError(
            f"data.hf.name: cannot load {name!r} ({type(e).__name__}: {e}); no model or dataset "
            "hub may be reachable here: point data.hf.name at a local folder"
        ) from None
    for f, key in ((tokens_field, "tokens_field"), (tags_field, "tags_field")):
        if f not in ds.column_names:
            raise DataError(
                f"data.hf.{key}: {name!r}[{split}] has no column {f!r} "
                f"(columns: {', '.join(ds.column_names)})"
            )
    names = _class_names(ds.features[tags_field])
    source = f"hf:{name}[{split}]"
    sentences: list[Sentence] = []
    for i, row in enumerate(ds):
        tags = row[tags_field]
        if tags and not isinstance(tags[0], str):
            if names is None:
                raise DataError(
                    f"{source}:{i + 1}: tags are class ids but column {tags_field!r} has no "
                    "ClassLabel names; store string tags or a ClassLabel feature"
                )
            try:
                tags = [names[t] for t in tags]
            except (IndexError, TypeError):
                raise DataError(
                    f"{source}:{i + 1}: tag id out of range of the {len(names)} class names"
                ) from None
        obj = {tokens_field: row[tokens_field], tags_field: tags}
        sentences.append(
            _record(
                obj,
                tokens_field,
                tags_field,
                f"{source}:{i + 1}",
                {"file": source, "line": i + 1, "format": "hf"},
            )
        )
    if not sentences:
        raise DataError(f"{source}: the split has no rows; fix data.hf.splits")
    return sentences


def _class_names(feature: Any) -> list[str] | None:
    """ClassLabel names of a sequence feature (Sequence/List of ClassLabel), else None."""
    import datasets

    inner = getattr(feature, "feature", None)
    if isinstance(inner, datasets.ClassLabel):
        return list(inner.names)
    return None


def write_conll(sentences: Iterable[Sentence], path: str | Path, separator: str = "\t") -> None:
    """Write `token<sep>tag` lines with a blank line after each sentence (readable by read_conll)."""
    with open(path, "w", encoding="utf-8") as f:
        for s in sentences:
            for tok, tag in zip(s.tokens, s.tags, strict=True):
                f.write(f"{tok}{separator}{tag}\n")
            f.write("\n")


def write_jsonl(sentences: Iterable[Sentence], path: str | Path) -> None:
    """Write one {"tokens", "tags"} object a line (readable by read_jsonl)."""
    with open(path, "w", encoding="utf-8") as f:
        for s in sentences:
            f.write(json.dumps({"tokens": s.tokens, "tags": s.tags}, ensure_ascii=False) + "\n")
