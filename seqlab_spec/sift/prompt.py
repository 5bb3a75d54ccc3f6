"""The SIFT prompt: optional instruction, k demonstrations, the query; with character offsets of each piece.

One full prompt (plain template, `lines` format, k=2, NER on CoNLL-2003, eos token `</s>`)::

    Label the named entities. Labels: LOC, MISC, ORG, PER. One `words :: LABEL` per line, or `none`.

    Sentence: EU rejects German call to boycott British lamb .
    Entities: EU :: ORG
    German :: MISC
    British :: MISC</s>

    Sentence: Peter Blackburn
    Entities: Peter Blackburn :: PER</s>

    Sentence: BRUSSELS 1996-08-22
    Entities: BRUSSELS :: LOC</s>

Each response runs from right after the header's colon (so it includes the separating space) through
the end-of-response marker (the tokenizer's eos token). Generation starts at the query header's colon:
`text[:prompt_end]` is exactly the prefix the model saw in training, so training and generation
tokenize the same prefix. The `Prompt` keeps the character range of every piece; `masks` turns the
response ranges into loss masks through the tokenizer's offsets.

With a chat template (`method.chat_template`), the same content becomes a conversation: the
instruction as the system turn, each demonstration as a user turn (`Sentence: ...`) answered by an
assistant turn (the response), then the query's user turn; the template's end-of-turn token must be
the eos token, which then ends every response.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..data.types import Sentence
from ..errors import ModelError
from .formats import SEP, Fmt, render

PieceKind = Literal["instruction", "demo_sentence", "demo_response", "query_sentence", "query_response"]

# task type -> (what the instruction asks to label, response header)
TASKS: dict[str, tuple[str, str]] = {
    "ner": ("named entities", "Entities"),
    "chunking": ("syntactic chunks", "Chunks"),
    "trigger": ("event triggers", "Events"),
    "aspect": ("aspect terms", "Aspects"),
    "pos": ("part-of-speech spans", "Tags"),
    "other": ("labeled spans", "Spans"),
}


@dataclass(frozen=True)
class PromptConfig:
    """Everything about the prompt that is fixed for one experiment."""

    labels: tuple[str, ...]
    task: str = "ner"
    instruction: bool = True
    fmt: Fmt = "lines"
    none_word: str = "none"
    chat: bool = False
    end: str = "</s>"  # end-of-response marker: the tokenizer's eos token

    @classmethod
    def for_tokenizer(cls, method: Any, labels: Sequence[str], task: str, tokenizer: Any) -> PromptConfig:
        """From a `SiftMethod` spec section: resolve `chat_template` and take the eos token as end marker."""
        if not tokenizer.eos_token:
            raise ModelError(
                f"tokenizer {tokenizer.name_or_path!r} has no eos token, which sift uses to end responses; "
                "use a model whose tokenizer has one (for a tiny local model: "
                "save_tiny_decoder(path, tokenizer='smollm2-135m'))"
            )
        has_template = bool(getattr(tokenizer, "chat_template", None))
        if method.chat_template == "on" and not has_template:
            raise ModelError(
                f"method.chat_template: on, but tokenizer {tokenizer.name_or_path!r} has no chat template; "
                "use chat_template: off (the plain template) or auto"
            )
        chat = method.chat_template == "on" or (method.chat_template == "auto" and has_template)
        return cls(
            labels=tuple(labels),
            task=task,
            instruction=method.instruction,
            fmt=method.response_format,
            none_word=method.none_word,
            chat=chat,
            end=tokenizer.eos_token,
        )

    @property
    def header(self) -> str:
        return TASKS.get(self.task, TASKS["other"])[1]

    def instruction_text(self) -> str:
        what = TASKS.get(self.task, TASKS["other"])[0]
        if self.fmt == "lines":
            how = f"One `words {SEP} LABEL` per line, or `{self.none_word}`."
        else:
            how = "Copy the sentence, writing each span as [words|LABEL]."
        return f"Label the {what}. Labels: {', '.join(self.labels)}. {how}"


@dataclass(frozen=True)
class Piece:
    kind: PieceKind
    start: int
    end: int


@dataclass(frozen=True)
class Prompt:
    """A rendered prompt: the text and the character range of every piece."""

    text: str
    pieces: tuple[Piece, ...]
    prompt_end: int  # generation starts here: text[:prompt_end] is the inference prompt
    chat: bool = False

    @property
    def generation_prompt(self) -> str:
        return self.text[: self.prompt_end]

    @property
    def demo_responses(self) -> list[tuple[int, int]]:
        return [(p.start, p.end) for p in self.pieces if p.kind == "demo_response"]

    @property
    def query_response(self) -> tuple[int, int]:
        """The query's response range (empty, at `prompt_end`, in a prompt built for inference)."""
        for p in self.pieces:
            if p.kind == "query_response":
                return (p.start, p.end)
        return (self.prompt_end, self.prompt_end)

    @property
    def n_demos(self) -> int:
        return len(self.demo_responses)


def build_prompt(
    query: Sentence,
    demos: Sequence[Sentence],
    cfg: PromptConfig,
    tokenizer: Any = None,
    with_response: bool = True,
) -> Prompt:
    """The prompt for `query` with `demos` in the given order; `with_response` adds the query's response."""
    if cfg.chat:
        if tokenizer is None:
            raise ValueError("a chat prompt needs the tokenizer (its chat template)")
        return _build_chat(query, demos, cfg, tokenizer, with_response)
    return _build_plain(query, demos, cfg, with_response)


def _build_plain(
    query: Sentence, demos: Sequence[Sentence], cfg: PromptConfig, with_response: bool
) -> Prompt:
    parts: list[str] = []
    pieces: list[Piece] = []
    pos = 0

    def add(s: str, kind: PieceKind | None = None) -> None:
        nonlocal pos
        parts.append(s)
        if kind is not None:
            pieces.append(Piece(kind, pos, pos + len(s)))
        pos += len(s)

    if cfg.instruction:
        add(cfg.instruction_text(), "instruction")
        add("\n\n")
    for demo in demos:
        add(f"Sentence: {' '.join(demo.tokens)}\n{cfg.header}:", "demo_sentence")
        add(f" {render(demo, cfg.fmt, cfg.none_word)}{cfg.end}", "demo_response")
        add("\n\n")
    add(f"Sentence: {' '.join(query.tokens)}\n{cfg.header}:", "query_sentence")
    prompt_end = pos
    if with_response:
        add(f" {render(query, cfg.fmt, cfg.none_word)}{cfg.end}", "query_response")
    return Prompt("".join(parts), tuple(pieces), prompt_end, chat=False)


def _build_chat(
    query: Sentence, demos: Sequence[Sentence], cfg: PromptConfig, tokenizer: Any, with_response: bool
) -> Prompt:
    messages: list[dict[str, str]] = []
    kinds: list[PieceKind] = []
    if cfg.instruction:
        messages.append({"role": "system", "content": cfg.instruction_text()})
        kinds.append("instruction")
    for demo in demos:
        messages.append({"role": "user", "content": f"Sentence: {' '.join(demo.tokens)}"})
        messages.append({"role": "assistant", "content": render(demo, cfg.fmt, cfg.none_word)})
        kinds += ["demo_sentence", "demo_response"]
    messages.append({"role": "user", "content": f"Sentence: {' '.join(query.tokens)}"})
    kinds.append("query_sentence")
    head = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    text = head
    if with_response:
        messages.append({"role": "assistant", "content": render(query, cfg.fmt, cfg.none_word)})
        kinds.append("query_response")
        text = tokenizer.apply_chat_template(messages, tokenize=False)
        if not text.startswith(head):
            raise ModelError(
                f"the chat template of {tokenizer.name_or_path!r} renders the conversation so far "
                "differently once the answer is added, so training and generation would see different "
                "prompts; "
                "use method.chat_template: off"
            )
    pieces: list[Piece] = []
    cursor = 0
    for message, kind in zip(messages, kinds, strict=True):
        start = text.find(message["content"], cursor)
        if start < 0:
            raise ModelError(
                f"the chat template of {tokenizer.name_or_path!r} does not reproduce message contents "
                "verbatim, so response offsets cannot be found; use method.chat_template: off"
            )
        end = start + len(message["content"])
        if kind.endswith("response"):
            if not text.startswith(cfg.end, end):
                raise ModelError(
                    f"the chat template of {tokenizer.name_or_path!r} does not end an assistant turn with "
                    f"the eos token {cfg.end!r}, which sift needs to stop generation; "
                    "use method.chat_template: off"
                )
            end += len(cfg.end)
            if kind == "query_response":
                start = len(head)
        pieces.append(Piece(kind, start, end))
        cursor = end
    # nothing after the query's end-of-response marker matters (a template may add a newline)
    return Prompt(text[:cursor] if with_response else text, tuple(pieces), len(head), chat=True)
