"""Data: readers, label schemes, labels <-> ids, subword alignment, few-shot samples, spec -> splits."""

from .alignment import IGNORE, first_subword_labels, word_predictions
from .fewshot import sample_k_shot
from .labels import LabelSet
from .load import load_splits, load_target_splits
from .readers import read_conll, read_hf, read_jsonl, write_conll, write_jsonl
from .schemes import SCHEMES, detect_scheme, from_bio, invalid_positions, spans, to_bio
from .types import Sentence

__all__ = [
    "IGNORE",
    "SCHEMES",
    "LabelSet",
    "Sentence",
    "detect_scheme",
    "first_subword_labels",
    "from_bio",
    "invalid_positions",
    "load_splits",
    "load_target_splits",
    "read_conll",
    "read_hf",
    "read_jsonl",
    "sample_k_shot",
    "spans",
    "to_bio",
    "word_predictions",
    "write_conll",
    "write_jsonl",
]
