"""Response loss masks: exact loss-carrying positions per strategy, and the losses they give a real model."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import torch
from test_sift_helpers import BRUSSELS, CORPUS, EU, JOHN, PETER, bpe_tokenizer, cfg, word_tokenizer
from tiny_models import tiny_causal_lm

from seqlab_spec.errors import ModelError
from seqlab_spec.sift.collator import SiftCollator
from seqlab_spec.sift.masks import IGNORE, build_labels, encode, loss_positions
from seqlab_spec.sift.prompt import PromptConfig, build_prompt


def test_worked_example_exact_positions() -> None:
    tok = word_tokenizer()
    p = build_prompt(PETER, [EU], cfg(instruction=False))
    enc = encode(p, tok)
    assert tok.convert_ids_to_tokens(enc.input_ids) == [
        "Sentence", ":", "EU", "rejects", "German", "call", "to", "boycott", "British", "lamb", ".",  # 0-10
        "Entities", ":", "EU", "::", "ORG", "German", "::", "MISC", "British", "::", "MISC", "</s>",  # 11-22
        "Sentence", ":", "Peter", "Blackburn",  # 23-26
        "Entities", ":", "Peter", "Blackburn", "::", "PER", "</s>",  # 27-33
    ]
    assert loss_positions(enc, p, "vanilla") == list(range(34))
    assert loss_positions(enc, p, "src") == [29, 30, 31, 32, 33]
    assert loss_positions(enc, p, "mrc") == [13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 29, 30, 31, 32, 33]
    labels = build_labels(enc, p, "src")
    assert labels == [IGNORE] * 29 + enc.input_ids[29:]
    assert build_labels(enc, p, "vanilla") == enc.input_ids


def _loss_text(tok: Any, p: Any, strategy: str) -> str:
    enc = encode(p, tok)
    return tok.decode([enc.input_ids[i] for i in loss_positions(enc, p, strategy)])


@pytest.mark.parametrize("chat", [False, True])
@pytest.mark.parametrize("fmt", ["lines", "inline"])
def test_byte_level_masks_are_exactly_the_responses(chat: bool, fmt: str) -> None:
    """With a GPT-2-style tokenizer (space inside the next token) the masks cover the responses exactly."""
    tok = bpe_tokenizer(chat=chat)
    c = cfg(chat=chat, fmt=fmt)
    p = build_prompt(BRUSSELS, [EU, PETER], c, tok)
    responses = [p.text[s:e] for s, e in [*p.demo_responses, p.query_response]]
    assert _loss_text(tok, p, "src") == responses[-1]
    assert _loss_text(tok, p, "mrc") == "".join(responses)
    assert all(r.endswith("</s>") for r in responses)
    # generation sees exactly the training prefix
    full, head = encode(p, tok).input_ids, encode(p, tok, with_response=False).input_ids
    assert full[: len(head)] == head and len(full) > len(head)


def test_slow_tokenizer_is_refused() -> None:
    p = build_prompt(PETER, [], cfg())
    with pytest.raises(ModelError, match="'slow' is a slow .* tokenizer; sift needs a fast one"):
        encode(p, SimpleNamespace(is_fast=False, name_or_path="slow"))


def _model(tok: Any) -> Any:
    return tiny_causal_lm("llama", vocab_size=len(tok), pad_token_id=tok.pad_token_id,
                          eos_token_id=tok.eos_token_id, bos_token_id=tok.eos_token_id)


def _batch(tok: Any, prompts: list[Any], strategy: str) -> dict[str, torch.Tensor]:
    feats = []
    for p in prompts:
        enc = encode(p, tok)
        feats.append({"input_ids": enc.input_ids, "labels": build_labels(enc, p, strategy)})
    return SiftCollator(tok.pad_token_id)(feats)


def test_vanilla_equals_the_models_causal_lm_loss() -> None:
    tok = word_tokenizer()
    model = _model(tok)
    # two queries of the same length: a batch without padding
    prompts = [build_prompt(q, [EU], cfg()) for q in (PETER, JOHN)]
    batch = _batch(tok, prompts, "vanilla")
    assert bool(batch["attention_mask"].all())
    with torch.no_grad():
        ours = model(**batch).loss
        reference = model(input_ids=batch["input_ids"], labels=batch["input_ids"]).loss
    torch.testing.assert_close(ours, reference, rtol=0, atol=0)


def test_vanilla_with_padding_is_the_token_weighted_mean_of_unpadded_losses() -> None:
    tok = word_tokenizer()
    model = _model(tok)
    prompts = [build_prompt(q, [EU], cfg()) for q in (PETER, CORPUS[3])]
    batch = _batch(tok, prompts, "vanilla")
    with torch.no_grad():
        ours = model(**batch).loss
        total, count = 0.0, 0
        for p in prompts:
            ids = torch.tensor([encode(p, tok).input_ids])
            total += model(input_ids=ids, labels=ids).loss.item() * (ids.shape[1] - 1)
            count += ids.shape[1] - 1
    assert batch["attention_mask"].sum(1).tolist()[0] < batch["input_ids"].shape[1]  # padded
    assert ours.item() == pytest.approx(total / count, rel=1e-5)


@pytest.mark.parametrize("strategy", ["src", "mrc"])
def test_response_losses_are_the_cross_entropy_of_the_response_tokens(strategy: str) -> None:
    tok = bpe_tokenizer()
    model = _model(tok)
    p = build_prompt(BRUSSELS, [EU, PETER], cfg(), tok)
    batch = _batch(tok, [p], strategy)
    enc = encode(p, tok)
    positions = loss_positions(enc, p, strategy)
    with torch.no_grad():
        out = model(**batch)
        logits = out.logits[0]
    ids = torch.tensor(enc.input_ids)
    # the token at position i is predicted from position i - 1
    manual = torch.nn.functional.cross_entropy(logits[[i - 1 for i in positions]], ids[positions])
    torch.testing.assert_close(out.loss, manual, rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="session")
def smollm2_tokenizer() -> Any:
    from seqlab_spec.models.registry import load_tokenizer, resolve

    return load_tokenizer(resolve("smollm2-135m"))


@pytest.mark.slow
@pytest.mark.parametrize("chat", ["off", "on"])
def test_real_smollm2_tokenizer_masks(smollm2_tokenizer: Any, chat: str) -> None:
    from seqlab_spec.spec.method import SiftMethod

    tok = smollm2_tokenizer
    c = PromptConfig.for_tokenizer(SiftMethod(name="sift", chat_template=chat), ["LOC", "MISC", "ORG", "PER"],
                                   "ner", tok)
    assert c.end == "<|im_end|>" and c.chat == (chat == "on")
    p = build_prompt(BRUSSELS, [EU, PETER], c, tok)
    expected = {
        "off": [" EU :: ORG\nGerman :: MISC\nBritish :: MISC<|im_end|>", " Peter Blackburn :: PER<|im_end|>",
                " BRUSSELS :: LOC<|im_end|>"],
        "on": ["EU :: ORG\nGerman :: MISC\nBritish :: MISC<|im_end|>", "Peter Blackburn :: PER<|im_end|>",
               "BRUSSELS :: LOC<|im_end|>"],
    }[chat]
    assert _loss_text(tok, p, "src") == expected[-1]
    assert _loss_text(tok, p, "mrc") == "".join(expected)
    enc = encode(p, tok)
    src = loss_positions(enc, p, "src")
    assert src == list(range(src[0], len(enc.input_ids)))  # the query response ends the sequence
    assert enc.input_ids[-1] == tok.eos_token_id
