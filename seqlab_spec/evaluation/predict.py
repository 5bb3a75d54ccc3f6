"""Batched tagger inference: sentences sorted by length, one forward per batch, first subword -> word label.

Sorting by length keeps padding (and wasted compute) small. Words without a subword come back as `O` and are
counted per sentence, apart by cause (cut by max_length; dropped whole by the tokenizer), so the caller can
warn: evaluation always covers every gold word.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

from ..data.encoding import encode_words
from ..data.labels import LabelSet


@dataclass
class TagPredictions:
    tags: list[list[str]]
    truncated: list[int]  # per sentence: words beyond max_length, predicted O
    no_subword: list[int]  # per sentence: words the tokenizer turns into nothing, predicted O

    @property
    def truncated_words(self) -> int:
        return sum(self.truncated)

    @property
    def truncated_sentences(self) -> int:
        return sum(n > 0 for n in self.truncated)

    @property
    def no_subword_words(self) -> int:
        return sum(self.no_subword)


def _expand(word_values: list[int], word_ids: list[int | None], pad: int) -> list[int]:
    return [pad if w is None else word_values[w] for w in word_ids]


@torch.inference_mode()
def predict_tags(
    model: torch.nn.Module,
    tokenizer,
    sentences: list[list[str]],
    labels: LabelSet,
    max_length: int,
    batch_size: int = 64,
    autocast: torch.dtype | None = None,
    word_features: dict[str, list[list[int]]] | None = None,
) -> TagPredictions:
    """Word labels for pre-tokenized sentences. word_features: extra per-word ids passed per subword (OIE tags)."""
    model.eval()
    device = next(model.parameters()).device
    encoded = [encode_words(tokenizer, words, max_length) for words in sentences]
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i].input_ids), reverse=True)
    out: list[list[str]] = [[] for _ in sentences]
    pad_id = tokenizer.pad_token_id
    ctx = torch.autocast(device_type=device.type, dtype=autocast) if autocast is not None else contextlib.nullcontext()
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        width = max(len(encoded[i].input_ids) for i in idx)
        ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        extra = {k: torch.zeros((len(idx), width), dtype=torch.long) for k in (word_features or {})}
        for row, i in enumerate(idx):
            n = len(encoded[i].input_ids)
            ids[row, :n] = torch.tensor(encoded[i].input_ids)
            mask[row, :n] = 1
            for k, values in (word_features or {}).items():
                extra[k][row, :n] = torch.tensor(_expand(values[i], encoded[i].word_ids, 0))
        with ctx:
            logits = model(
                input_ids=ids.to(device), attention_mask=mask.to(device), **{k: v.to(device) for k, v in extra.items()}
            ).logits
        best = logits.argmax(-1).cpu().tolist()
        for row, i in enumerate(idx):
            n_words = len(sentences[i])
            words = ["O"] * n_words
            seen = set()
            for pos, w in enumerate(encoded[i].word_ids):
                if w is not None and w not in seen:
                    seen.add(w)
                    words[w] = labels.label(best[row][pos])
            out[i] = words
    return TagPredictions(out, [e.truncated for e in encoded], [len(e.no_subword) for e in encoded])
