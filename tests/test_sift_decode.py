"""Generation and parsing: scripted outputs for exact post-processing; a tiny random Llama, the real path."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from test_sift_helpers import BRUSSELS, CORPUS, EU, LABELS, PETER, bpe_tokenizer, cfg
from tiny_models import tiny_causal_lm

from seqlab_spec.errors import ModelError
from seqlab_spec.sift.decode import build_eval_prompts, generate, max_new_tokens_for, predict_spans
from seqlab_spec.sift.demos import DemoSelector
from seqlab_spec.sift.formats import COUNT_KEYS, parse, spans_to_bio
from seqlab_spec.sift.prompt import build_prompt


class ScriptedModel:
    """Answers each prompt with a fixed continuation (chosen by the query sentence), shaped like `generate`'s
    output: the prompt ids, then the continuation cut at max_new_tokens; after an eos the pad id follows
    (a finished row), without one the model goes on writing newlines."""

    device = torch.device("cpu")

    def __init__(self, tok: Any, scripts: dict[str, str]):
        self.tok = tok
        self.scripts = {q: tok(s, add_special_tokens=False)["input_ids"] for q, s in scripts.items()}
        self.newline = tok("\n", add_special_tokens=False)["input_ids"][0]
        self.training = True
        self.calls: list[dict[str, Any]] = []

    def eval(self) -> None:
        self.training = False

    def train(self, mode: bool = True) -> None:
        self.training = mode

    def generate(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, generation_config: Any,
                 tokenizer: Any) -> torch.Tensor:
        self.calls.append({
            "side": self.tok.padding_side, "mask": attention_mask.tolist(), "training": self.training,
            "stop_strings": generation_config.stop_strings, "do_sample": generation_config.do_sample,
        })
        n = generation_config.max_new_tokens
        rows = []
        for ids in input_ids.tolist():
            prompt = self.tok.decode(ids, skip_special_tokens=True)
            query = prompt.rsplit("Sentence: ", 1)[1].split("\n")[0]
            cont = self.scripts[query][:n]
            fill = self.tok.pad_token_id if self.tok.eos_token_id in cont else self.newline
            rows.append(ids + cont + [fill] * (n - len(cont)))
        return torch.tensor(rows)


def test_generation_cuts_at_eos_stop_string_and_own_bound() -> None:
    tok = bpe_tokenizer()
    scripts = {
        "BRUSSELS 1996-08-22": " BRUSSELS :: LOC</s> Peter :: PER",  # after eos: ignored
        "Peter Blackburn": " Peter Blackburn :: PER\n\nSentence: John Smith\nEntities: John",  # runs on
        " ".join(EU.tokens): " EU :: ORG\nGerman :: MISC\nBritish :: MISC\nEU :: ORG\nEU :: ORG",
    }
    model = ScriptedModel(tok, scripts)
    prompts = [build_prompt(q, [CORPUS[5]], cfg(), with_response=False) for q in (BRUSSELS, PETER, EU)]
    eu_bound = len(tok(" EU :: ORG\nGerman :: MISC", add_special_tokens=False)["input_ids"])
    texts = generate(model, tok, prompts, [50, 50, eu_bound], batch_size=3, stop_strings=["\nSentence:"])
    assert texts == ["BRUSSELS :: LOC", "Peter Blackburn :: PER", "EU :: ORG\nGerman :: MISC"]
    (call,) = model.calls
    assert call["side"] == "left" and call["training"] is False and call["do_sample"] is False
    assert call["stop_strings"] == ["\nSentence:"]
    assert all(row == sorted(row) for row in call["mask"])  # padding on the left
    assert sorted(row[0] for row in call["mask"]) == [0, 0, 1]  # three lengths: two rows padded
    assert tok.padding_side == "right" and model.training is True  # restored


def test_predict_spans_aggregates_parser_counts() -> None:
    tok = bpe_tokenizer()
    scripts = {
        "BRUSSELS 1996-08-22": " BRUSSELS :: LOC\nBRUSSELS :: LOC\nParis :: LOC</s>",
        "Peter Blackburn": " none</s>",
        " ".join(EU.tokens): " EU :: ORG\nGerman :: MISC\nBritish :: NORP\nlamb\n",  # never ends
    }
    model = ScriptedModel(tok, scripts)
    queries = [BRUSSELS, PETER, EU]
    prompts = [build_prompt(q, [], cfg(), with_response=False) for q in queries]
    pred = predict_spans(model, tok, prompts, queries, cfg(), max_new_tokens=None, batch_size=2)
    assert pred.texts == ["BRUSSELS :: LOC\nBRUSSELS :: LOC\nParis :: LOC", "none",
                          "EU :: ORG\nGerman :: MISC\nBritish :: NORP\nlamb"]
    assert pred.spans == [[(0, 1, "LOC")], [], [(0, 1, "ORG"), (2, 3, "MISC")]]
    assert pred.tags == [["B-LOC", "O"], ["O", "O"], spans_to_bio(pred.spans[2], len(EU.tokens))]
    assert pred.counts == dict.fromkeys(COUNT_KEYS, 0) | {
        "spans": 3, "repeated": 1, "not_in_sentence": 1, "unknown_label": 1, "malformed": 1,
        "sentences": 3, "unfinished": 1,
    }
    assert len(model.calls) == 2


def test_max_new_tokens_default_and_override() -> None:
    assert max_new_tokens_for(10) == 96
    assert max_new_tokens_for(10, 7) == 7


def _tiny(tok: Any) -> Any:
    return tiny_causal_lm(
        "llama", vocab_size=len(tok), pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
        bos_token_id=tok.eos_token_id, max_position_embeddings=512,
    )


def test_tiny_random_llama_end_to_end() -> None:
    """Garbage text from a random model: shapes, restored state, parser totals, batch invariance."""
    fmt = "inline"  # the format with more ways to go wrong; both are parsed exhaustively elsewhere
    tok = bpe_tokenizer()
    model = _tiny(tok)
    c = cfg(fmt=fmt)
    queries = CORPUS[:5]
    prompts = build_eval_prompts(queries, DemoSelector(CORPUS[5:], "bm25"), 1, c, tok, token_budget=512)
    assert all(p.n_demos == 1 for p in prompts)
    model.train()  # dropout is 0 in the tiny config; the mode must come back as it was
    pred = predict_spans(model, tok, prompts, queries, c, max_new_tokens=8, batch_size=3)
    assert tok.padding_side == "right" and model.training
    assert len(pred.texts) == len(pred.spans) == len(pred.tags) == len(queries)
    assert [len(t) for t in pred.tags] == [len(q.tokens) for q in queries]
    for text, query, spans in zip(pred.texts, queries, pred.spans, strict=True):
        assert parse(text, query.tokens, fmt, LABELS).spans == spans  # type: ignore[arg-type]
    results = [parse(t, q.tokens, fmt, LABELS) for t, q in zip(pred.texts, queries, strict=True)]  # type: ignore[arg-type]
    summed = {k: sum(r.counts[k] for r in results) for k in COUNT_KEYS}
    assert {k: pred.counts[k] for k in COUNT_KEYS} == summed
    assert pred.counts["sentences"] == 5 and 0 <= pred.counts["unfinished"] <= 5
    # left padding is right: a batch gives what one-at-a-time generation gives
    alone = generate(model, tok, prompts, 8, batch_size=1, stop_strings=["\nSentence:"])
    assert alone == pred.texts


def test_generation_needs_a_pad_token() -> None:
    tok = bpe_tokenizer()
    tok.pad_token = None
    with pytest.raises(ModelError, match="needs a pad and an eos token"):
        generate(_tiny(bpe_tokenizer()), tok, [build_prompt(PETER, [], cfg(), with_response=False)], 4)
