"""Event-trigger readers: processed ACE 2005 JSON and MAVEN JSONL -> list[Sentence] with BIO trigger tags.

ACE 2005 (LDC, licensed) as processed by the widely used nlpcl-lab/ace2005-preprocessing scripts: one
JSON list of sentences {"words": [...], "golden-event-mentions": [{"trigger": {"start", "end", "text"},
"event_type": "Conflict:Attack", ...}], ...}. `end` is EXCLUSIVE: those scripts set
`end = start + len(text.split())`, and the code that reads them (e.g. Dukić et al.'s oie-td) tags
`range(start, end)`. The trigger's `text` is not checked against the words: those scripts derive
`end` from it by counting spaces, so a trigger the tokenizer split differently can disagree by design.

MAVEN (Wang et al., 2020), one document a line: {"id", "content": [{"sentence", "tokens"}], "events":
[{"type", "mention": [{"trigger_word", "sent_id", "offset": [s, e]}]}], "negative_triggers": [...]}.
`offset` is [start, end) over the sentence's tokens. Each content sentence becomes one Sentence;
negative triggers are plain O. The public test split hides its events: it is refused, not read as all-O.

`label="event"` tags every trigger B-/I-EVENT (trigger identification, the cross-domain setting, and the
label LitBank uses); `label="type"` tags B-/I-<event type> (trigger classification). Two triggers over
the same words with the same label are one span; overlapping triggers that BIO cannot hold keep the
first and are counted in `meta["overlaps_dropped"]` (and warned about once per file).
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any, Literal

from ..errors import DataError
from .text import check_words, line_col, read_text, split_lines
from .types import Sentence

Label = Literal["event", "type"]
EVENT = "EVENT"

# What a missing file of these formats means, and the way on without it (appended to file-not-found errors);
# the specs point at these sets through an environment variable.
MISSING_HINTS = {
    "ace": "ACE 2005 is licensed by the Linguistic Data Consortium (LDC2006T06) and cannot ship with "
    "seqlab-spec: with a license, run the nlpcl-lab/ace2005-preprocessing scripts and set ACE05_DIR to "
    "the folder holding their train.json, dev.json and test.json; without one, run "
    "specs/oie_litbank_to_tempeval.yaml (LitBank -> TempEval-3, public data) instead",
    "maven": "MAVEN is not bundled: download train.jsonl and valid.jsonl from the MAVEN-dataset release "
    "(THU-KEG) and set MAVEN_DIR to their folder; or run specs/oie_litbank_to_tempeval.yaml "
    "(LitBank -> TempEval-3, public data) instead",
}
DATA_DIR_VARS = {"ace": "ACE05_DIR", "maven": "MAVEN_DIR"}


def missing_file_message(fmt: str, path: str | Path, key: str) -> str:
    """File-not-found error of an event data file, with what to do for licensed/unbundled sets."""
    var = DATA_DIR_VARS.get(fmt)
    unset = f" ({var} is not set)" if var and not os.environ.get(var) else ""
    hint = MISSING_HINTS.get(fmt)
    return f"{path}: file not found{unset}; fix {key} in the spec" + (f". {hint}" if hint else "")


def _require(path: str | Path, fmt: str, key: str | None) -> None:
    if not Path(path).exists():
        raise DataError(missing_file_message(fmt, path, key or "the path"))


def _check_label(label: str) -> None:
    if label not in ("event", "type"):
        raise DataError(
            f"label {label!r} is not one of event, type (event: B-/I-EVENT; type: the event type)"
        )


def _place(tags: list[str], start: int, end: int, name: str) -> bool:
    """Write one trigger span into tags; False (nothing written) if it clashes with an earlier one."""
    want = [f"B-{name}"] + [f"I-{name}"] * (end - start - 1)
    if tags[start:end] == want and (end >= len(tags) or tags[end] != f"I-{name}"):
        return True  # the same span again (e.g. one word triggering two events of one label)
    if any(t != "O" for t in tags[start:end]):
        return False
    tags[start:end] = want
    return True


def _span(value: Any, n_words: int, where: str, what: str) -> tuple[int, int]:
    """A checked [start, end) word span."""
    if not (isinstance(value, (list, tuple)) and len(value) == 2 and all(type(v) is int for v in value)):
        raise DataError(f"{where}: {what} must be two integers [start, end), found {value!r}")
    start, end = value
    if not 0 <= start < end <= n_words:
        raise DataError(
            f"{where}: {what} [{start}, {end}) is not a span of the {n_words} words "
            "(0 <= start < end <= words; end is exclusive)"
        )
    return start, end


def _warn_overlaps(path: Path, n: int) -> None:
    if n:
        warnings.warn(
            f"{path}: {n} overlapping trigger(s) could not be held in BIO; kept the first of each "
            "(see meta['overlaps_dropped'])",
            stacklevel=3,
        )


def _json_list_items(text: str, where: str) -> list[tuple[int, Any]]:
    """(line, item) of each element of a top-level JSON list, so errors can name an item's line."""
    dec = json.JSONDecoder()

    def skip(i: int) -> int:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        return i

    def fail(i: int, msg: str) -> DataError:
        line, col = line_col(text, i)
        return DataError(f"{where}:{line}: invalid JSON ({msg} at column {col}); fix the file")

    i = skip(0)
    if i >= len(text) or text[i] != "[":
        raise DataError(
            f'{where}: expected a JSON list of sentences ([{{"words": ...}}, ...]), as written '
            "by the ACE 2005 preprocessing scripts"
        )
    items: list[tuple[int, Any]] = []
    i = skip(i + 1)
    if i < len(text) and text[i] == "]":
        return items
    while True:
        try:
            obj, end = dec.raw_decode(text, i)
        except json.JSONDecodeError as e:
            raise fail(e.pos, e.msg) from None
        items.append((line_col(text, i)[0], obj))
        i = skip(end)
        if i < len(text) and text[i] == ",":
            i = skip(i + 1)
        elif i < len(text) and text[i] == "]":
            if skip(i + 1) != len(text):
                raise fail(skip(i + 1), "extra data after the list")
            return items
        else:
            raise fail(i, "expected ',' or ']'")


def read_ace(
    path: str | Path, label: Label = "event", encoding: str = "utf-8", *, key: str | None = None
) -> list[Sentence]:
    """Processed ACE 2005 JSON -> one Sentence per item, triggers as BIO (`end` exclusive)."""
    _check_label(label)
    _require(path, "ace", key)
    p, text = read_text(path, encoding, key)
    sentences: list[Sentence] = []
    dropped_total = 0
    for index, (line, item) in enumerate(_json_list_items(text, str(p))):
        where = f"{p}:{line}"
        if not isinstance(item, dict) or "words" not in item:
            raise DataError(
                f'{where}: sentence {index} must be an object with "words" and "golden-event-mentions"'
            )
        words = item["words"]
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words) or not words:
            raise DataError(f'{where}: sentence {index}: "words" must be a non-empty list of strings')
        mentions = item.get("golden-event-mentions", [])
        if not isinstance(mentions, list):
            raise DataError(f'{where}: sentence {index}: "golden-event-mentions" must be a list')
        tags = ["O"] * len(words)
        dropped = 0
        for m, mention in enumerate(mentions):
            what = f"sentence {index}: golden-event-mentions[{m}]"
            trig = mention.get("trigger") if isinstance(mention, dict) else None
            if not isinstance(trig, dict) or "start" not in trig or "end" not in trig:
                raise DataError(f'{where}: {what} needs "trigger": {{"start", "end", "text"}}')
            etype = mention.get("event_type")
            if label == "type" and (not isinstance(etype, str) or not etype):
                raise DataError(f'{where}: {what} has no "event_type"; use label: event or fix the item')
            start, end = _span([trig["start"], trig["end"]], len(words), where, f"{what}.trigger")
            dropped += not _place(tags, start, end, EVENT if label == "event" else etype)
        meta = {"file": str(p), "line": line, "format": "ace", "index": index}
        if dropped:
            meta["overlaps_dropped"] = dropped
        dropped_total += dropped
        check_words(words, None, lambda i, w=where, n=index: f"{w}: sentence {n}")
        sentences.append(Sentence(list(words), tags, meta))
    if not sentences:
        raise DataError(f"{p}: the list holds no sentences; {('fix ' + key) if key else 'fix the path'}")
    _warn_overlaps(p, dropped_total)
    return sentences


def read_maven(
    path: str | Path, label: Label = "event", encoding: str = "utf-8", *, key: str | None = None
) -> list[Sentence]:
    """MAVEN JSONL (one document a line) -> one Sentence per content sentence, triggers as BIO."""
    _check_label(label)
    _require(path, "maven", key)
    p, text = read_text(path, encoding, key)
    sentences: list[Sentence] = []
    dropped_total = 0
    for lineno, raw in enumerate(split_lines(text), start=1):
        if not raw.strip():
            continue
        where = f"{p}:{lineno}"
        try:
            doc = json.loads(raw)
        except json.JSONDecodeError as e:
            raise DataError(f"{where}: invalid JSON ({e.msg} at column {e.colno}); fix the line") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("content"), list):
            raise DataError(f'{where}: expected a MAVEN document {{"id", "content": [...], "events": [...]}}')
        if "events" not in doc:
            hint = (
                " (the MAVEN test split hides its labels: evaluate on valid.jsonl instead)"
                if "candidates" in doc
                else ""
            )
            raise DataError(f'{where}: document {doc.get("id")!r} has no "events"{hint}')
        token_lists: list[list[str]] = []
        for s, sent in enumerate(doc["content"]):
            toks = sent.get("tokens") if isinstance(sent, dict) else None
            if not isinstance(toks, list) or not all(isinstance(t, str) for t in toks) or not toks:
                raise DataError(f"{where}: content[{s}].tokens must be a non-empty list of strings")
            check_words(toks, None, lambda i, w=where, n=s: f"{w}: content[{n}]")
            token_lists.append(toks)
        tag_lists = [["O"] * len(t) for t in token_lists]
        dropped = [0] * len(token_lists)
        if not isinstance(doc["events"], list):
            raise DataError(f'{where}: "events" must be a list')
        for e, event in enumerate(doc["events"]):
            if not isinstance(event, dict) or not isinstance(event.get("mention"), list):
                raise DataError(f'{where}: events[{e}] must be an object with a "mention" list')
            etype = event.get("type")
            if label == "type" and (not isinstance(etype, str) or not etype):
                raise DataError(f'{where}: events[{e}] has no "type"; use label: event or fix the line')
            for m, mention in enumerate(event["mention"]):
                what = f"events[{e}].mention[{m}]"
                sid = mention.get("sent_id") if isinstance(mention, dict) else None
                if type(sid) is not int or not 0 <= sid < len(token_lists):
                    raise DataError(
                        f"{where}: {what}.sent_id {sid!r} is not one of the document's "
                        f"{len(token_lists)} sentences (0-based)"
                    )
                start, end = _span(mention.get("offset"), len(token_lists[sid]), where, f"{what}.offset")
                dropped[sid] += not _place(tag_lists[sid], start, end, EVENT if label == "event" else etype)
        for s, (toks, tags) in enumerate(zip(token_lists, tag_lists, strict=True)):
            meta = {"file": str(p), "line": lineno, "format": "maven", "doc_id": doc.get("id"), "sent_id": s}
            if dropped[s]:
                meta["overlaps_dropped"] = dropped[s]
            sentences.append(Sentence(list(toks), tags, meta))
        dropped_total += sum(dropped)
    if not sentences:
        raise DataError(f"{p}: no documents (only blank lines); {('fix ' + key) if key else 'fix the path'}")
    _warn_overlaps(p, dropped_total)
    return sentences
