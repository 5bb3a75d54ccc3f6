"""HTML views for notebook 04: which tokens carry the loss, and how the parser read each generated text."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from ..data.schemes import spans as bio_spans
from ..data.types import Sentence
from .formats import Fmt, parse
from .masks import IGNORE, Strategy, build_labels, encode
from .prompt import Prompt

LOSS_COLOR = "#ffc9c9"  # tokens that carry loss
FREE_COLOR = "#e9ecef"  # tokens the model reads but is not trained to write


def _token_text(text: str, start: int, end: int) -> str:
    piece = html.escape(text[start:end]).replace("\n", "↵<br>")
    return piece or "∅"  # a zero-width token (BOS added by the tokenizer)


def loss_html(prompt: Prompt, tokenizer: Any, strategy: Strategy) -> str:
    """The prompt's tokens, red where they carry loss under `strategy`, grey elsewhere (one box a token)."""
    encoded = encode(prompt, tokenizer)
    labels = build_labels(encoded, prompt, strategy)
    parts = []
    for (start, end), label in zip(encoded.offsets, labels, strict=True):
        color = FREE_COLOR if label == IGNORE else LOSS_COLOR
        parts.append(
            f'<span style="background:{color};border:1px solid #fff;white-space:pre-wrap">'
            f"{_token_text(prompt.text, start, end)}</span>"
        )
    n_loss = sum(label != IGNORE for label in labels)
    head = f"<b>{html.escape(strategy)}</b>: {n_loss} of {len(labels)} tokens carry loss<br>"
    return f'<div style="font-family:monospace;font-size:85%;line-height:1.9">{head}{"".join(parts)}</div>'


def _spans_text(tokens: Sequence[str], spans: Sequence[tuple[int, int, str]]) -> str:
    return "<br>".join(html.escape(f"{' '.join(tokens[s:e])} :: {lab}") for s, e, lab in spans) or "–"


def parser_table_html(
    queries: Sequence[Sentence],
    texts: Sequence[str],
    fmt: Fmt,
    labels: Sequence[str],
    none_word: str = "none",
    n: int = 8,
) -> str:
    """Per sentence: the generated text, the spans the parser placed, its rejections, and the gold spans."""
    rows = ["<table><tr><th>sentence</th><th>generated</th><th>parsed</th><th>rejected</th><th>gold</th></tr>"]
    for query, text in list(zip(queries, texts, strict=True))[:n]:
        result = parse(text, query.tokens, fmt, labels, none_word)
        rejected = ", ".join(f"{k} {v}" for k, v in result.counts.items() if k != "spans" and v) or "–"
        gold = bio_spans(query.tags)
        mark = "✓" if sorted(result.spans) == sorted(gold) else "✗"
        rows.append(
            f"<tr><td>{html.escape(' '.join(query.tokens))}</td>"
            f"<td><pre style='margin:0'>{html.escape(text)}</pre></td>"
            f"<td>{_spans_text(query.tokens, result.spans)}</td><td>{html.escape(rejected)}</td>"
            f"<td>{mark} {_spans_text(query.tokens, gold)}</td></tr>"
        )
    return "".join(rows) + "</table>"


def first_step_html(model: Any, tokenizer: Any, prompt: Prompt, query: Sentence, cfg: Any, n: int = 12) -> str:
    """The model's `n` likeliest first response tokens for `prompt`, each marked allowed or masked by
    constrained decoding (`constrain`): what the processor removes before the greedy pick."""
    import torch

    from .constrain import ConstrainedLogits, vocab_for
    from .decode import grammars_for, max_new_tokens_for

    enc = tokenizer(prompt.generation_prompt, return_tensors="pt", add_special_tokens=not prompt.chat)
    with torch.inference_mode():
        logits = model(**enc.to(model.device)).logits[0, -1].float()
    probs = logits.softmax(-1)
    top = probs.topk(n).indices.tolist()
    grammar = grammars_for([query], cfg, tokenizer)[0]
    bound = max_new_tokens_for(len(query.tokens))
    allowed = set(ConstrainedLogits(vocab_for(tokenizer), [grammar], [bound], 0).allowed_ids(0, 0))
    rows = ["<table><tr><th>token</th><th>p</th><th>constrained decoding</th></tr>"]
    for i in top:
        mark = "allowed" if i in allowed else "<b>masked</b>"
        piece = html.escape(repr(tokenizer.decode([i])))
        rows.append(f"<tr><td><code>{piece}</code></td><td>{probs[i]:.3f}</td><td>{mark}</td></tr>")
    return "".join(rows) + f"</table>{len(allowed)} of {len(tokenizer)} tokens allowed at this step"
