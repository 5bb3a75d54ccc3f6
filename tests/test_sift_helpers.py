"""Shared pieces of the sift tests: tiny local tokenizers (no hub) and a small labeled corpus.

- `word_tokenizer()`: WordLevel over `\\w+|[^\\w\\s]+` pieces, so each word of a worked example is one
  token and loss positions can be written down by hand.
- `bpe_tokenizer(chat=...)`: a byte-level BPE trained here in milliseconds, GPT-2/SmolLM2-style (the
  leading space sits inside the next token, offsets untrimmed), optionally with a chat template.
- `sentencepiece_tokenizer()`: Llama-style pieces (`▁` spaces, `<0xNN>` byte fallback), trained here.
"""

from __future__ import annotations

import functools
import json

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

from seqlab_spec.data.types import Sentence
from seqlab_spec.sift.prompt import PromptConfig

LABELS = ("LOC", "MISC", "ORG", "PER")
EOS = "</s>"
PAD = "<pad>"
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}</s>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def sent(text: str, tags: str) -> Sentence:
    return Sentence(text.split(), tags.split())


EU = sent("EU rejects German call to boycott British lamb .", "B-ORG O B-MISC O O O B-MISC O O")
PETER = sent("Peter Blackburn", "B-PER I-PER")
BRUSSELS = sent("BRUSSELS 1996-08-22", "B-LOC O")
JOHN = sent("John Smith", "B-PER I-PER")  # as many words and tokens as PETER
CORPUS = [
    EU,
    PETER,
    BRUSSELS,
    sent("The European Commission said on Thursday it disagreed with German advice .",
         "O B-ORG I-ORG O O O O O O B-MISC O O"),
    sent("Germany 's representative to the European Union 's veterinary committee Werner Zwingmann said .",
         "B-LOC O O O O B-ORG I-ORG O O O B-PER I-PER O O"),
    sent("He said the lamb was safe .", "O O O O O O O"),
    sent("New York and New Jersey sued New York City .", "B-LOC I-LOC O B-LOC I-LOC O B-LOC I-LOC I-LOC O"),
    sent("John Smith met Mary in Paris .", "B-PER I-PER O B-PER O B-LOC O"),
]


def cfg(**kw: object) -> PromptConfig:
    base: dict[str, object] = {"labels": LABELS, "end": EOS}
    return PromptConfig(**{**base, **kw})  # type: ignore[arg-type]


def _texts() -> list[str]:
    from seqlab_spec.sift.prompt import build_prompt

    out = []
    for fmt in ("lines", "inline"):
        c = cfg(fmt=fmt)
        out += [build_prompt(s, CORPUS[:2], c).text for s in CORPUS]
        out.append(c.instruction_text())
    return out


@functools.cache
def word_tokenizer() -> PreTrainedTokenizerFast:
    splitter = pre_tokenizers.Whitespace()
    words = sorted({w for t in _texts() for w, _ in splitter.pre_tokenize_str(t.replace(EOS, " "))})
    vocab = {w: i for i, w in enumerate([PAD, EOS, "[UNK]", *words])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = splitter
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOS, pad_token=PAD, unk_token="[UNK]")
    return fast


@functools.cache
def _bpe() -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=[PAD, EOS, "<|user|>", "<|assistant|>", "<|system|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tok.train_from_iterator(_texts(), trainer)
    return tok


@functools.cache
def _sentencepiece() -> str:
    """Llama/SentencePiece-style pieces: `▁` for a space, byte fallback `<0xNN>` for every byte."""
    tok = Tokenizer(models.BPE(byte_fallback=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first")
    tok.decoder = decoders.Sequence(
        [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)]
    )
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=[PAD, EOS], show_progress=False)
    tok.train_from_iterator(_texts(), trainer)
    spec = json.loads(tok.to_str())
    vocab = spec["model"]["vocab"]
    for b in range(256):
        vocab.setdefault(f"<0x{b:02X}>", max(vocab.values()) + 1)
    return json.dumps(spec)


def sentencepiece_tokenizer() -> PreTrainedTokenizerFast:
    """A SentencePiece-style tokenizer (Metaspace + byte fallback, as Llama/Mistral), trained here."""
    return PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_str(_sentencepiece()), eos_token=EOS, pad_token=PAD)


def bpe_tokenizer(chat: bool = False) -> PreTrainedTokenizerFast:
    """A fresh wrapper each call (tests change padding_side); the trained model is cached."""
    backend = Tokenizer.from_str(_bpe().to_str())
    fast = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token=EOS, pad_token=PAD)
    if chat:
        fast.chat_template = CHAT_TEMPLATE
    return fast
