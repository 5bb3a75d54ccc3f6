"""The prompt template: exact text, piece offsets, the generation prefix, the chat variant and its checks."""

from __future__ import annotations

import textwrap
from types import SimpleNamespace

import pytest
from test_sift_helpers import BRUSSELS, CHAT_TEMPLATE, EU, PETER, bpe_tokenizer, cfg, sent

from seqlab_spec.errors import ModelError
from seqlab_spec.sift import prompt as prompt_module
from seqlab_spec.sift.prompt import PromptConfig, build_prompt
from seqlab_spec.spec.method import SiftMethod


def test_module_docstring_shows_the_real_prompt() -> None:
    doc = prompt_module.__doc__ or ""
    block = doc.split("::\n\n", 1)[1].split("\n\nEach response", 1)[0]
    assert build_prompt(BRUSSELS, [EU, PETER], cfg()).text == textwrap.dedent(block)


def test_pieces_cover_the_text_with_exact_offsets() -> None:
    p = build_prompt(BRUSSELS, [EU, PETER], cfg())
    by_kind = [(piece.kind, p.text[piece.start : piece.end]) for piece in p.pieces]
    assert by_kind == [
        ("instruction", "Label the named entities. Labels: LOC, MISC, ORG, PER. "
                        "One `words :: LABEL` per line, or `none`."),
        ("demo_sentence", "Sentence: EU rejects German call to boycott British lamb .\nEntities:"),
        ("demo_response", " EU :: ORG\nGerman :: MISC\nBritish :: MISC</s>"),
        ("demo_sentence", "Sentence: Peter Blackburn\nEntities:"),
        ("demo_response", " Peter Blackburn :: PER</s>"),
        ("query_sentence", "Sentence: BRUSSELS 1996-08-22\nEntities:"),
        ("query_response", " BRUSSELS :: LOC</s>"),
    ]
    assert p.n_demos == 2
    assert p.query_response == (p.prompt_end, len(p.text))
    assert p.generation_prompt.endswith("Sentence: BRUSSELS 1996-08-22\nEntities:")


def test_inference_prompt_stops_at_the_query_header() -> None:
    train = build_prompt(BRUSSELS, [EU], cfg())
    infer = build_prompt(BRUSSELS, [EU], cfg(), with_response=False)
    assert infer.text == train.generation_prompt == infer.generation_prompt
    assert infer.query_response == (len(infer.text), len(infer.text))
    kinds = [p.kind for p in infer.pieces]
    assert kinds == ["instruction", "demo_sentence", "demo_response", "query_sentence"]


def test_no_instruction_inline_format_and_task_header() -> None:
    p = build_prompt(PETER, [], cfg(instruction=False, fmt="inline", task="trigger"))
    assert p.text == "Sentence: Peter Blackburn\nEvents: [Peter Blackburn|PER]</s>"
    assert cfg(fmt="inline").instruction_text() == (
        "Label the named entities. Labels: LOC, MISC, ORG, PER. Copy the sentence, writing each span as "
        "[words|LABEL]."
    )
    empty = sent("He said .", "O O O")
    assert build_prompt(empty, [], cfg(instruction=False, none_word="nothing")).text == (
        "Sentence: He said .\nEntities: nothing</s>"
    )


def test_chat_prompt_turns_and_offsets() -> None:
    tok = bpe_tokenizer(chat=True)
    p = build_prompt(BRUSSELS, [PETER], cfg(chat=True), tok)
    assert p.chat
    assert p.text == (
        "<|system|>\nLabel the named entities. Labels: LOC, MISC, ORG, PER. "
        "One `words :: LABEL` per line, or `none`.</s>\n"
        "<|user|>\nSentence: Peter Blackburn</s>\n<|assistant|>\nPeter Blackburn :: PER</s>\n"
        "<|user|>\nSentence: BRUSSELS 1996-08-22</s>\n<|assistant|>\nBRUSSELS :: LOC</s>"
    )
    spans = {piece.kind: p.text[piece.start : piece.end] for piece in p.pieces}
    assert spans["demo_response"] == "Peter Blackburn :: PER</s>"
    assert spans["query_response"] == "BRUSSELS :: LOC</s>"
    assert spans["query_sentence"] == "Sentence: BRUSSELS 1996-08-22"
    assert p.generation_prompt.endswith("<|assistant|>\n")
    infer = build_prompt(BRUSSELS, [PETER], cfg(chat=True), tok, with_response=False)
    assert infer.text == p.generation_prompt


def test_chat_template_that_does_not_end_turns_with_eos_is_refused() -> None:
    tok = bpe_tokenizer()
    tok.chat_template = CHAT_TEMPLATE.replace("</s>", "<|end|>")
    with pytest.raises(ModelError, match=r"does not end an assistant turn with the eos token '</s>'.*"
                                         r"method.chat_template: off"):
        build_prompt(BRUSSELS, [PETER], cfg(chat=True), tok)


def test_config_from_spec_resolves_chat_and_end_marker() -> None:
    plain, chat = bpe_tokenizer(), bpe_tokenizer(chat=True)
    method = SiftMethod(name="sift", chat_template="auto", response_format="inline", none_word="nil")
    c = PromptConfig.for_tokenizer(method, ["PER", "LOC"], "ner", chat)
    assert (c.chat, c.end, c.fmt, c.none_word, c.labels) == (True, "</s>", "inline", "nil", ("PER", "LOC"))
    assert not PromptConfig.for_tokenizer(method, ["PER"], "ner", plain).chat
    assert not PromptConfig.for_tokenizer(SiftMethod(name="sift"), ["PER"], "ner", chat).chat  # default off
    with pytest.raises(ModelError, match="method.chat_template: on, but tokenizer .* has no chat template; "
                                         "use chat_template: off"):
        PromptConfig.for_tokenizer(SiftMethod(name="sift", chat_template="on"), ["PER"], "ner", plain)
    no_eos = SimpleNamespace(eos_token=None, name_or_path="x", chat_template=None)
    with pytest.raises(ModelError, match="tokenizer 'x' has no eos token"):
        PromptConfig.for_tokenizer(method, ["PER"], "ner", no_eos)
