"""Small helpers the teaching notebooks call: parameters -> Spec, self-checks, HTML views (the device check and
the memory check: machine.py)."""

from __future__ import annotations

import html
from pathlib import Path

from .spec import Spec


def resolve_params(
    spec: dict | None, spec_path: str, run_dir: str | None, overrides: list[str] = ()
) -> tuple[Spec, Path]:
    """The parameters cell -> a validated Spec and a fresh run folder.

    Under `seqlab-spec run`, papermill injects `spec` (the resolved spec as a dict) and `run_dir`; stepping
    through by hand, the spec is read from `spec_path`. Either way it is validated by the same Spec model.
    """
    from .rundir import create_run_dir
    from .shipped import checkout_root
    from .spec.load import load_spec, spec_from_params

    if spec is not None:
        parsed = spec_from_params(spec)
    else:
        path = Path(spec_path)
        parsed = load_spec(path if path.is_absolute() else (Path.cwd() / path), list(overrides))
    if run_dir is None:
        out = Path(parsed.run.out_dir)
        base = checkout_root() or Path.cwd()  # a checkout's runs/, else beside where the notebook runs
        run_path = create_run_dir(out if out.is_absolute() else base / out, parsed.name)
    else:
        run_path = Path(run_dir)
    print(f"spec {parsed.name!r}: method {parsed.method.name}, model {parsed.model.name}; run folder {run_path}")
    return parsed, run_path


def check(condition: bool, message: str) -> None:
    """A self-check: a green tick, or an AssertionError saying what to look at."""
    if not condition:
        raise AssertionError(f"not yet: {message}")
    print(f"✓ {message}")


_COLORS = ["#ffd8a8", "#b2f2bb", "#a5d8ff", "#eebefa", "#ffec99", "#c3fae8", "#ffc9c9", "#d0bfff"]


def spans_html(tokens: list[str], tags: list[str], types: list[str] | None = None) -> str:
    """Words with their BIO spans highlighted and labelled (for notebooks)."""
    from .data.schemes import spans

    types = types or sorted({lab for _, _, lab in spans(tags)})
    out, i = [], 0
    for a, b, lab in spans(tags):
        out += [html.escape(t) for t in tokens[i:a]]
        color = _COLORS[types.index(lab) % len(_COLORS)] if lab in types else "#eee"
        text = html.escape(" ".join(tokens[a:b]))
        out.append(
            f'<span style="background:{color};padding:1px 3px;border-radius:3px">{text}'
            f'<sub style="font-size:70%"> {html.escape(lab)}</sub></span>'
        )
        i = b
    out += [html.escape(t) for t in tokens[i:]]
    return " ".join(out)


def compare_html(rows: list[dict], n: int = 5) -> str:
    """Gold next to predicted spans for the first n prediction rows."""
    parts = ["<table><tr><th>gold</th><th>predicted</th></tr>"]
    from .data.schemes import to_bio

    for r in rows[:n]:
        gold = to_bio(r["gold"], "bio")[0] if r["gold"] else []
        pred = to_bio(r["pred"], "bio")[0] if r["pred"] else []
        parts.append(f"<tr><td>{spans_html(r['tokens'], gold)}</td><td>{spans_html(r['tokens'], pred)}</td></tr>")
    return "".join(parts) + "</table>"


def alignment_table(tokenizer, words: list[str], tags: list[str], max_length: int = 128) -> str:
    """Subwords, their word, and the training label (-100 where the loss ignores them), as an HTML table."""
    from .data.alignment import first_subword_labels
    from .data.encoding import encode_words

    enc = encode_words(tokenizer, words, max_length)
    fake_ids = list(range(len(words)))
    first = first_subword_labels(enc.word_ids, fake_ids)
    rows = []
    for tid, w, lab in zip(enc.input_ids, enc.word_ids, first, strict=True):
        label = "-100" if lab == -100 else tags[lab]
        word = "" if w is None else html.escape(words[w])
        rows.append(
            f"<tr><td><code>{html.escape(tokenizer.convert_ids_to_tokens(tid))}</code></td>"
            f"<td>{word}</td><td>{label}</td></tr>"
        )
    return "<table><tr><th>subword</th><th>word</th><th>training label</th></tr>" + "".join(rows) + "</table>"
