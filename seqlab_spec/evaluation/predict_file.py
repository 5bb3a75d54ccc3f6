"""Inputs of `seqlab-spec predict` -> word lists -> the run's method -> rows with labels and spans.

The input goes through the readers' own code and checks (encoding, byte-order mark, line ends, JSON errors,
empty or control-character words), so a file that training would refuse is refused here with the same
file:line message, and one that training reads is read the same way.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from .. import methods
from ..data.readers import parse_jsonl
from ..data.schemes import from_bio, spans
from ..data.text import bad_char, decode, split_lines
from ..errors import DataError, SeqlabError
from ..runner.rundir import RUN_FILES

log = logging.getLogger("seqlab_spec")


def read_input(path: str) -> bytes:
    """The raw bytes of `--input` (a file, or - for standard input)."""
    if path == "-":
        return sys.stdin.buffer.read()
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: file not found; fix --input")
    if p.is_dir():
        raise DataError(f"{p}: is a folder, not a file; fix --input")
    return p.read_bytes()


def parse_input(data: str | bytes, source: str) -> list[list[str]]:
    """JSONL of {tokens} if the first non-empty line is a JSON object, else raw text (one sentence a line,
    tokenized with spaCy's English rules). Bytes must be UTF-8; a leading BOM is dropped either way."""
    text = decode(data, "utf-8", source, what="") if isinstance(data, bytes) else data.removeprefix("\ufeff")
    lines = [(i, line) for i, line in enumerate(split_lines(text), 1) if line.strip()]
    if not lines:
        raise DataError(f"{source}: no sentences (empty input)")
    if lines[0][1].lstrip().startswith("{"):
        first, line = lines[0]
        try:
            json.loads(line)
        except json.JSONDecodeError as e:  # raw text may open with a brace too: say why it was read as JSONL
            raise DataError(
                f"{source}:{first}: invalid JSON ({e.msg} at column {e.colno}); a first line that starts with "
                "'{' makes the file JSONL: fix the line, or for raw text start it with something else"
            ) from None
        return [s.tokens for s in parse_jsonl(text, source, "tokens", None)]
    if all("\t" in line for _, line in lines):
        raise DataError(
            f"{source}: every line holds a tab: a column (CoNLL) file? predict takes JSONL "
            '({"tokens": [...]} a line) or raw text, one sentence a line'
        )
    import spacy

    tok = spacy.blank("en").tokenizer
    out = []
    for i, line in lines:
        bad = bad_char(line.replace("\t", " "))
        if bad:
            raise DataError(f"{source}:{i}: the line holds the control character {bad}; remove it")
        out.append([t.text for t in tok(line.strip()) if not t.is_space])
    return out


def _warn_unseen(source: str, truncated: list[int], no_subword: list[int], max_length: int) -> None:
    if sum(truncated):
        log.warning(
            "%s: %d words in %d sentences lie beyond train.max_length=%d subwords; they are predicted O "
            "(see truncated_words per row; split long sentences)",
            source,
            sum(truncated),
            sum(n > 0 for n in truncated),
            max_length,
        )
    if sum(no_subword):
        log.warning(
            "%s: %d words have no subword for this tokenizer; predicted O (see no_subword_words per row)",
            source,
            sum(no_subword),
        )


def predict_file(run_dir: Path, data: str | bytes, source: str, batch_size: int = 64) -> list[dict]:
    """Rows {tokens, labels, spans} (taggers add truncated_words and no_subword_words) for the input text."""
    from ..runner.rundir import load_run

    spec, _ = load_run(run_dir)
    model_dir = Path(run_dir) / RUN_FILES["model"]
    if not model_dir.exists():
        raise SeqlabError(f"{run_dir}: no saved model (the run had run.save_model: false or did not finish)")
    sentences = parse_input(data, source)
    module = methods.pipeline(spec.method.name)
    from ..models.registry import quiet_progress

    detailed = getattr(module, "predict_detailed", None)
    counts: list[dict] = [{} for _ in sentences]
    if detailed is None:  # sift: prompts are bounded by method.token_budget, not by words cut
        with quiet_progress():  # stdout is the predictions; no "Loading weights" bar on stderr either
            tags = module.predict(model_dir, spec, sentences, batch_size)
    else:
        with quiet_progress():
            pred = detailed(model_dir, spec, sentences, batch_size)
        tags = pred.tags
        counts = [
            {"truncated_words": t, "no_subword_words": n} for t, n in zip(pred.truncated, pred.no_subword, strict=True)
        ]
        _warn_unseen(source, pred.truncated, pred.no_subword, spec.train.max_length)
    return [
        {
            "tokens": toks,
            "labels": from_bio(t, spec.task.scheme),
            "spans": [{"start": a, "end": b, "label": lab, "text": " ".join(toks[a:b])} for a, b, lab in spans(t)],
            **c,
        }
        for toks, t, c in zip(sentences, tags, counts, strict=True)
    ]
