"""Inputs of `seqlab-spec predict` -> word lists -> the run's method -> rows with labels and spans."""

from __future__ import annotations

import json
from pathlib import Path

from .data.schemes import from_bio, spans
from .errors import DataError, SeqlabError
from .pipelines import for_method
from .rundir import RUN_FILES


def parse_input(text: str, source: str) -> list[list[str]]:
    """JSONL of {tokens} if the first non-empty line is a JSON object, else raw text (one sentence a line)."""
    lines = [(i, line) for i, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        raise DataError(f"{source}: no sentences (empty input)")
    if lines[0][1].lstrip().startswith("{"):
        out = []
        for i, line in lines:
            try:
                row = json.loads(line)
                tokens = row["tokens"]
            except (json.JSONDecodeError, KeyError, TypeError) as e:
                raise DataError(f'{source}:{i}: expected a JSON object {{"tokens": [...]}}: {e}') from None
            if not isinstance(tokens, list) or not tokens or not all(isinstance(t, str) for t in tokens):
                raise DataError(f"{source}:{i}: `tokens` must be a non-empty list of strings")
            out.append(tokens)
        return out
    import spacy

    tok = spacy.blank("en").tokenizer
    return [[t.text for t in tok(line.strip()) if not t.is_space] for _, line in lines]


def predict_file(run_dir: Path, text: str, source: str, batch_size: int = 64) -> list[dict]:
    from .run import load_run

    spec, _ = load_run(run_dir)
    model_dir = Path(run_dir) / RUN_FILES["model"]
    if not model_dir.exists():
        raise SeqlabError(f"{run_dir}: no saved model (the run had run.save_model: false or did not finish)")
    sentences = parse_input(text, source)
    from .models.registry import quiet_progress

    with quiet_progress():  # stdout is the predictions; no "Loading weights" bar on stderr either
        tags = for_method(spec.method.name).predict(model_dir, spec, sentences, batch_size)
    return [
        {
            "tokens": toks,
            "labels": from_bio(t, spec.task.scheme),
            "spans": [{"start": a, "end": b, "label": lab, "text": " ".join(toks[a:b])} for a, b, lab in spans(t)],
        }
        for toks, t in zip(sentences, tags, strict=True)
    ]
