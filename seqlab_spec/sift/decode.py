"""Inference for SIFT: prompts for evaluation queries, greedy batched generation, parsing to BIO.

Generation is greedy and batched with left padding (the tokenizer's padding side is restored after),
stops at the eos token (the end-of-response marker) or, for the plain template, at the start of a
next `Sentence:`; each text is cut at its own `max_new_tokens` bound, so outputs do not depend on
which sentences share a batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import torch

from ..data.types import Sentence
from ..errors import ModelError
from .constrain import ConstrainedLogits, check_coverage, constrained_bounds, vocab_for
from .demos import DemoSelector, fit_prompt
from .formats import COUNT_KEYS, Span, parse, spans_to_bio
from .grammar import Grammar, grammar_for
from .prompt import Prompt, PromptConfig

PLAIN_STOPS: tuple[str, ...] = ("\nSentence:",)
Decoding = Literal["free", "constrained"]
DECODINGS: tuple[str, ...] = ("free", "constrained")


def max_new_tokens_for(n_words: int, override: int | None = None) -> int:
    """Generation bound of one query: the spec's `method.max_new_tokens`, else 8 per word + 16."""
    return override if override is not None else 8 * n_words + 16


def stop_strings_for(cfg: PromptConfig) -> list[str]:
    """Text that ends a response besides eos: a base model continuing with the next demonstration."""
    return [] if cfg.chat else list(PLAIN_STOPS)


def build_eval_prompts(
    queries: Sequence[Sentence],
    selector: DemoSelector,
    k: int,
    cfg: PromptConfig,
    tokenizer: Any,
    token_budget: int = 1024,
    split: str = "eval",
) -> list[Prompt]:
    """Generation prompts for `queries` with demonstrations from the selector's pool (the train split)."""
    chosen = selector.select_many(queries, k)
    prompts = []
    for i, (query, picks) in enumerate(zip(queries, chosen, strict=True)):
        demos = [selector.pool[j] for j in picks]
        prompts.append(fit_prompt(query, demos, cfg, tokenizer, token_budget, False, f"{split} sentence {i}"))
    return prompts


def _generate(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[Prompt],
    max_new_tokens: Sequence[int],
    batch_size: int,
    stop_strings: Sequence[str],
    grammars: Sequence[Grammar] | None = None,
) -> tuple[list[str], list[bool], list[int]]:
    """Texts, whether each ended (eos or a stop string) within its bound, and the tokens each produced.

    With `grammars` (one per prompt), decoding is constrained to each prompt's response format."""
    from transformers import GenerationConfig, LogitsProcessorList

    if tokenizer.pad_token_id is None or tokenizer.eos_token_id is None:
        raise ModelError(
            f"tokenizer {tokenizer.name_or_path!r} needs a pad and an eos token for batched generation; "
            "load it through seqlab_spec.models.registry (which sets the pad token) or set "
            "tokenizer.pad_token = tokenizer.eos_token"
        )
    if len({p.chat for p in prompts}) > 1:
        raise ValueError("prompts mix the chat and the plain template; build them with one PromptConfig")
    texts = [""] * len(prompts)
    finished = [False] * len(prompts)
    n_tokens = [0] * len(prompts)
    order = sorted(range(len(prompts)), key=lambda i: -len(prompts[i].generation_prompt))
    ends = {tokenizer.eos_token_id, tokenizer.pad_token_id}
    side, was_training = tokenizer.padding_side, model.training
    tokenizer.padding_side = "left"
    model.eval()
    try:
        for b in range(0, len(order), batch_size):
            idx = order[b : b + batch_size]
            enc = tokenizer(
                [prompts[i].generation_prompt for i in idx], padding=True, return_tensors="pt",
                add_special_tokens=not prompts[idx[0]].chat,
            ).to(model.device)
            config = GenerationConfig(
                max_new_tokens=max(max_new_tokens[i] for i in idx), do_sample=False, num_beams=1,
                eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                stop_strings=list(stop_strings) or None,
            )
            extra = {}
            if grammars is not None:
                extra["logits_processor"] = LogitsProcessorList([ConstrainedLogits(
                    vocab_for(tokenizer), [grammars[i] for i in idx], [max_new_tokens[i] for i in idx],
                    enc["input_ids"].shape[1],
                )])
            with torch.inference_mode():
                out = model.generate(**enc, generation_config=config, tokenizer=tokenizer, **extra)
            new = out[:, enc["input_ids"].shape[1] :].tolist()
            for row, i in enumerate(idx):
                ids = new[row][: max_new_tokens[i]]
                cut = next((j for j, t in enumerate(ids) if t in ends), None)
                text = tokenizer.decode(ids[:cut], skip_special_tokens=True)
                stops = [text.find(s) for s in stop_strings if s in text]
                if stops:
                    text = text[: min(stops)]
                texts[i] = text.strip()
                finished[i] = cut is not None or bool(stops)
                n_tokens[i] = len(ids) if cut is None else cut + 1
    finally:
        tokenizer.padding_side = side
        model.train(was_training)
    return texts, finished, n_tokens


def generate(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[Prompt],
    max_new_tokens: Sequence[int] | int,
    batch_size: int = 16,
    stop_strings: Sequence[str] = (),
    grammars: Sequence[Grammar] | None = None,
) -> list[str]:
    """The generated response of each prompt (greedy; eos, stop strings and the end marker removed);
    constrained to each prompt's response format when `grammars` are given (see `grammars_for`)."""
    bounds = [max_new_tokens] * len(prompts) if isinstance(max_new_tokens, int) else list(max_new_tokens)
    if grammars is not None:
        bounds = constrained_bounds(grammars, bounds)
    return _generate(model, tokenizer, prompts, bounds, batch_size, stop_strings, grammars)[0]


def grammars_for(queries: Sequence[Sentence], cfg: PromptConfig, tokenizer: Any) -> list[Grammar]:
    """One response automaton per query (constrained decoding); raises ModelError when the tokenizer's
    pieces cannot spell every response."""
    vocab = vocab_for(tokenizer)
    grammars = [grammar_for(q.tokens, cfg.fmt, cfg.labels, cfg.none_word, cfg.chat) for q in queries]
    for g in grammars:
        check_coverage(vocab, g)
    return grammars


@dataclass
class Predictions:
    """Per sentence: the generated text, the parsed spans, BIO tags, the tokens generated (end token
    included); `counts` summed over sentences."""

    texts: list[str]
    spans: list[list[Span]]
    tags: list[list[str]]
    counts: dict[str, int] = field(default_factory=dict)
    new_tokens: list[int] = field(default_factory=list)


def predict_spans(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[Prompt],
    queries: Sequence[Sentence],
    cfg: PromptConfig,
    max_new_tokens: int | None = None,
    batch_size: int = 16,
    decoding: Decoding = "free",
) -> Predictions:
    """Generate for each prompt, parse the text against its query's words, return BIO and parser counts.

    `counts` (for metrics.json) holds the parser's counts plus `sentences` and `unfinished` (generation
    hit `max_new_tokens` before the end of the response). `decoding: constrained` allows only tokens that
    keep each response a valid prefix of its format (`constrain`), raising a query's bound to its shortest
    complete response where the bound is below it.
    """
    if len(prompts) != len(queries):
        raise ValueError(f"{len(prompts)} prompts for {len(queries)} queries")
    if decoding not in DECODINGS:
        raise ValueError(f"decoding {decoding!r}: use one of {DECODINGS}")
    bounds = [max_new_tokens_for(len(q.tokens), max_new_tokens) for q in queries]
    grammars = grammars_for(queries, cfg, tokenizer) if decoding == "constrained" else None
    if grammars is not None:
        bounds = constrained_bounds(grammars, bounds)
    # a constrained response cannot run into a next demonstration: no stop strings (their set-up is slow)
    stops = stop_strings_for(cfg) if grammars is None else []
    texts, finished, n_tokens = _generate(model, tokenizer, prompts, bounds, batch_size, stops, grammars)
    counts = dict.fromkeys(COUNT_KEYS, 0) | {"sentences": len(queries), "unfinished": finished.count(False)}
    spans, tags = [], []
    for text, query in zip(texts, queries, strict=True):
        result = parse(text, query.tokens, cfg.fmt, cfg.labels, cfg.none_word)
        for key, value in result.counts.items():
            counts[key] += value
        spans.append(result.spans)
        tags.append(spans_to_bio(result.spans, len(query.tokens)))
    return Predictions(texts, spans, tags, counts, n_tokens)
