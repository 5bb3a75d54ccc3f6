"""Constrained decoding: the response automata (exact accept / reject), the allowed tokens (equal to a brute
force over the whole vocabulary), and generation that always parses cleanly and always ends, with a
random-weight decoder and with random scores, on byte-level BPE and SentencePiece-style tokenizers."""

from __future__ import annotations

import functools
from typing import Any

import pytest
import torch
from test_sift_helpers import CORPUS, EU, LABELS, bpe_tokenizer, cfg, sent, sentencepiece_tokenizer, word_tokenizer
from tiny_models import tiny_causal_lm

from seqlab_spec.data.readers import read_conll
from seqlab_spec.datasets import DATASETS_DIR
from seqlab_spec.errors import ModelError
from seqlab_spec.sift.constrain import ConstrainedLogits, constrained_bounds, token_bytes, vocab_for
from seqlab_spec.sift.decode import build_eval_prompts, generate, grammars_for, max_new_tokens_for, predict_spans
from seqlab_spec.sift.demos import DemoSelector
from seqlab_spec.sift.formats import COUNT_KEYS, parse, render
from seqlab_spec.sift.grammar import Grammar, grammar_for

SAW = sent("She saw no Indians now ; she saw flour-mills .", "O O O O O O O B-EVENT B-EVENT O")
QUERIES = [*CORPUS, sent("EU and EU met EU .", "B-ORG O O O B-LOC O")]
REJECTIONS = ("malformed", "unknown_label", "not_in_sentence", "repeated", "overlapping")


@functools.cache
def _smollm2() -> Any:
    from seqlab_spec.models.registry import load_tokenizer, resolve

    return load_tokenizer(resolve("smollm2-135m"))


TOKENIZERS = {"bpe": bpe_tokenizer, "sentencepiece": sentencepiece_tokenizer, "smollm2": _smollm2}


def accepts(g: Grammar, text: str) -> bool | None:
    """True: a complete response; None: a valid prefix only; False: off the format."""
    state = g.start()
    for b in text.encode():
        state = g.step(state, b)
        if not state:
            return False
    return True if g.final(state) else None


@pytest.mark.parametrize("name", TOKENIZERS)
def test_token_bytes_spell_text_exactly(name: str) -> None:
    tok = TOKENIZERS[name]()
    pieces = token_bytes(tok)
    for text in ["EU rejects German call :: ORG\nnone", "[Müller|PER] 東京 😀 #2", "  two  spaces"]:
        ids = tok(text, add_special_tokens=False)["input_ids"]
        spelled = b"".join(pieces[i] for i in ids)  # type: ignore[misc]
        assert spelled.lstrip(b" ") == text.encode().lstrip(b" "), name
    assert pieces[tok.eos_token_id] is None and pieces[tok.pad_token_id] is None


def test_tokenizer_without_byte_pieces_is_refused() -> None:
    with pytest.raises(ModelError, match="cannot read the pieces of tokenizer .* use method.decoding: free"):
        token_bytes(word_tokenizer())


def test_lines_grammar_exact() -> None:
    g = grammar_for(SAW.tokens, "lines", ["EVENT"], "none", chat=False)
    cases = {
        " saw :: EVENT": True,
        " saw :: EVENT #2": True,
        " saw no :: EVENT\nsaw :: EVENT": True,  # `saw` of "saw no" is used: the next free one is the second
        " saw :: EVENT\nsaw :: EVENT": True,
        " saw :: EVENT\nsaw :: EVENT\nsaw :: EVENT": False,  # no third `saw`
        " saw :: EVENT #2\nsaw :: EVENT": None,  # nothing after the second: the first needs its mark
        " saw :: EVENT #2\nsaw :: EVENT #1": True,
        " saw :: EVENT #3": False,
        " saw :: EVENT #1\nsaw :: EVENT #1": False,
        " saw :: EVENT #1": False,  # a mark only where the unmarked rule picks another occurrence
        " saw no :: EVENT #1": False,
        " Paris :: EVENT": False,
        " saw :: LOC": False,
        " none": True,
        " saw :: EVENT\nnone": False,
        " saw": None,
        " saw :: EVENT\n": None,
        "saw :: EVENT": False,  # the plain template's response starts with a space
        " saw  :: EVENT": False,
        " . :: EVENT": True,
    }
    assert {text: accepts(g, text) for text in cases} == cases
    chat = grammar_for(SAW.tokens, "lines", ["EVENT"], "none", chat=True)
    assert accepts(chat, "saw :: EVENT #2") is True and accepts(chat, " saw :: EVENT") is False


def test_inline_grammar_exact() -> None:
    g = grammar_for("EU and EU".split(), "inline", LABELS, "none", chat=True)
    cases = {
        "EU and EU": True,
        "EU and [EU|ORG]": True,
        "[EU and EU|LOC]": True,
        "[EU|ORG] [and|MISC] [EU|PER]": True,
        "[EU|ORG": None,
        "[EU|XX]": False,
        "EU  and EU": False,
        "EU and": None,
        "[[EU|ORG]": False,
        "[EU|ORG]and EU": False,
        "EU and EU .": False,
        "[|ORG] EU and EU": False,
        "EU [and|ORG]": None,
    }
    assert {text: accepts(g, text) for text in cases} == cases


def test_bracket_words_are_copied_but_never_bracketed() -> None:
    g = grammar_for("he said [ sic ] Paris".split(), "inline", LABELS, "none", chat=True)
    assert accepts(g, "he said [ sic ] [Paris|LOC]") is True
    assert accepts(g, "he said [[|MISC] sic ] Paris") is False


@pytest.mark.parametrize("fmt", ["lines", "inline"])
def test_every_gold_response_is_reachable(fmt: str) -> None:
    """The constraint never forbids the right answer: gold responses of the bundled corpora (the first
    sentences of each test file) and the worked examples are complete responses of their automata."""
    corpora = [
        read_conll(DATASETS_DIR / "wnut17" / "emerging.test.annotated")[:150],
        read_conll(DATASETS_DIR / "litbank_events" / "test.bio.tsv", separator="tab")[:60],  # long sentences
    ]
    for sentences in [*corpora, [*QUERIES, SAW]]:
        labels = sorted({t[2:] for s in sentences for t in s.tags if t != "O"})
        for s in sentences:
            g = grammar_for(s.tokens, fmt, labels, "none", chat=False)  # type: ignore[arg-type]
            assert accepts(g, " " + render(s, fmt)) is True, (fmt, s.meta, render(s, fmt))  # type: ignore[arg-type]


@pytest.mark.parametrize("name", TOKENIZERS)
@pytest.mark.parametrize("fmt", ["lines", "inline"])
def test_allowed_tokens_equal_a_brute_force_over_the_vocabulary(name: str, fmt: str) -> None:
    tok = TOKENIZERS[name]()
    vocab, pieces = vocab_for(tok), token_bytes(tok)
    g = grammar_for(EU.tokens, fmt, LABELS, "none", chat=False)  # type: ignore[arg-type]
    gold = (" " + render(EU, fmt)).encode()  # type: ignore[arg-type]
    for cut in [0, 1, 3, 5, 9, len(gold)]:
        state = g.start()
        for b in gold[:cut]:
            state = g.step(state, b)

        def walk(data: bytes, state=state) -> bool:
            for b in data:
                state = g.step(state, b)
                if not state:
                    return False
            return True

        brute = {i for i, p in enumerate(pieces) if p and walk(p)}
        walked = {i for i, _ in vocab.allowed(state, g)}
        assert walked == brute and (brute or cut == len(gold)), (name, fmt, gold[:cut])
        proc = ConstrainedLogits(vocab, [g], [1000], prompt_len=0)
        proc.states[0] = state
        assert set(proc.allowed_ids(0, cut)) == brute | ({tok.eos_token_id} if cut == len(gold) else set())


def _walk(proc: ConstrainedLogits, rows: int, vocab_size: int, seed: int) -> list[list[int]]:
    """Greedy steps on random scores through the processor until every row wrote eos (or 400 steps)."""
    gen = torch.Generator().manual_seed(seed)
    ids = torch.zeros((rows, 2), dtype=torch.long)  # a 2-token "prompt"
    eos = proc.vocab.eos_id
    for _ in range(400):
        scores = proc(ids, torch.randn((rows, vocab_size), generator=gen))
        nxt = scores.argmax(-1)
        done = (ids[:, 2:] == eos).any(-1) if ids.shape[1] > 2 else torch.zeros(rows, dtype=torch.bool)
        nxt[done] = eos
        ids = torch.cat([ids, nxt[:, None]], 1)
        if (ids[:, 2:] == eos).any(-1).all():
            break
    out = []
    for row in ids[:, 2:].tolist():
        out.append(row[: row.index(eos) + 1] if eos in row else row)
    return out


@pytest.mark.parametrize("name", TOKENIZERS)
@pytest.mark.parametrize("fmt", ["lines", "inline"])
def test_random_scores_always_parse_cleanly_and_end_within_the_bound(name: str, fmt: str) -> None:
    tok = TOKENIZERS[name]()
    vocab, pieces = vocab_for(tok), token_bytes(tok)
    queries = [*QUERIES, SAW]
    labels = ["EVENT", *LABELS]
    grammars = [grammar_for(q.tokens, fmt, labels, "none", chat=False) for q in queries]  # type: ignore[arg-type]
    tight = [3] * len(queries)  # below every shortest answer: raised to it, and still met
    for seed, asked in [(0, [max_new_tokens_for(len(q.tokens)) for q in queries]), (1, tight), (2, tight)]:
        bounds = constrained_bounds(grammars, asked)
        proc = ConstrainedLogits(vocab, grammars, bounds, prompt_len=2)
        rows = _walk(proc, len(queries), len(tok), seed)
        spans = 0
        for q, row, bound in zip(queries, rows, bounds, strict=True):
            assert row[-1] == tok.eos_token_id and len(row) <= bound, (q.tokens, len(row), bound)
            text = b"".join(pieces[i] for i in row[:-1]).decode()  # type: ignore[misc]
            result = parse(text, q.tokens, fmt, labels)  # type: ignore[arg-type]
            assert {k: result.counts[k] for k in REJECTIONS} == dict.fromkeys(REJECTIONS, 0), text
            spans += len(result.spans)
        if asked is not tight:  # (a bound raised to the shortest answer leaves room for `none` / the bare sentence)
            assert spans > 0  # the walks wrote spans


def _tiny(tok: Any) -> Any:
    return tiny_causal_lm(
        "llama", vocab_size=len(tok), pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
        bos_token_id=tok.eos_token_id, max_position_embeddings=1024,
    )


@pytest.mark.parametrize("name", TOKENIZERS)
@pytest.mark.parametrize("fmt", ["lines", "inline"])
def test_random_weight_decoder_answers_parse_cleanly_and_end(name: str, fmt: str) -> None:
    """The issue's test set: 9 queries, k = 1; free decoding of the same model fails the parser."""
    tok = TOKENIZERS[name]()
    model = _tiny(tok)
    c = cfg(fmt=fmt, end=tok.eos_token)
    prompts = build_eval_prompts(QUERIES, DemoSelector(QUERIES, "bm25"), 1, c, tok, token_budget=512)
    pred = predict_spans(model, tok, prompts, QUERIES, c, max_new_tokens=6, batch_size=4, decoding="constrained")
    assert {k: pred.counts[k] for k in (*REJECTIONS, "unfinished", "sentences")} == (
        dict.fromkeys(REJECTIONS, 0) | {"unfinished": 0, "sentences": len(QUERIES)}
    )
    assert pred.counts["spans"] == sum(len(s) for s in pred.spans)
    free = predict_spans(model, tok, prompts, QUERIES, c, max_new_tokens=6, batch_size=4, decoding="free")
    assert sum(free.counts[k] for k in (*REJECTIONS, "unfinished")) > 0
    # left padding and batching change nothing: one query at a time gives the same answers
    alone = generate(model, tok, prompts, 6, batch_size=1, grammars=grammars_for(QUERIES, c, tok))
    assert alone == pred.texts


def test_unknown_decoding_is_refused() -> None:
    tok = bpe_tokenizer()
    with pytest.raises(ValueError, match="decoding 'beam': use one of"):
        predict_spans(_tiny(tok), tok, [], [], cfg(), decoding="beam")  # type: ignore[arg-type]


def test_counts_keys_unchanged() -> None:
    assert set(REJECTIONS) | {"spans"} == set(COUNT_KEYS)
