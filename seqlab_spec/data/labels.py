"""LabelSet: the BIO label list of a model and its ids ("O" is 0, then B-X, I-X per type, sorted)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..errors import DataError
from .types import Sentence


def types_of(tags: Iterable[str]) -> set[str]:
    """Span types named by BIO tags (anything after "B-"/"I-")."""
    return {t[2:] for t in tags if t != "O"}


class LabelSet:
    """Fixed label order so that ids mean the same in training, inference and saved models."""

    def __init__(self, types: Iterable[str]):
        self.types: list[str] = sorted(set(types))
        self.labels: list[str] = ["O"] + [f"{p}-{t}" for t in self.types for p in "BI"]
        self._ids = {label: i for i, label in enumerate(self.labels)}

    @classmethod
    def from_sentences(cls, sents: Iterable[Sentence], types: Sequence[str] | None = None) -> LabelSet:
        """The given `types` (task.labels) when set, else the types found in `sents` (BIO tags)."""
        if types is not None:
            return cls(types)
        found: set[str] = set()
        for s in sents:
            found |= types_of(s.tags)
        return cls(found)

    def __len__(self) -> int:
        return len(self.labels)

    def __contains__(self, label: object) -> bool:
        return label in self._ids

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LabelSet) and other.labels == self.labels

    def __repr__(self) -> str:
        return f"LabelSet({self.labels})"

    def id(self, label: str) -> int:
        """Id of a BIO label; a label outside the set is a DataError naming the known types."""
        try:
            return self._ids[label]
        except KeyError:
            known = ", ".join(self.types) or "none"
            raise DataError(
                f"label {label!r} is not in the label set (types: {known}); "
                "add its type to task.labels or fix the data"
            ) from None

    def label(self, i: int) -> str:
        """Label of an id."""
        if not 0 <= i < len(self.labels):
            raise IndexError(f"label id {i} out of range 0..{len(self.labels) - 1}")
        return self.labels[i]

    def encode(self, tags: Sequence[str], unknown: str | None = None) -> list[int]:
        """Ids of a tag sequence. `unknown="O"` maps labels outside the set to O (for a dev loss over gold
        types the model cannot predict); the default raises."""
        if unknown is None:
            return [self.id(t) for t in tags]
        fallback = self.id(unknown)
        return [self._ids.get(t, fallback) for t in tags]

    def decode(self, ids: Sequence[int]) -> list[str]:
        return [self.label(int(i)) for i in ids]

    def to_json(self) -> list[str]:
        """The label list (the model's id2label order)."""
        return list(self.labels)

    @classmethod
    def from_json(cls, labels: Sequence[str]) -> LabelSet:
        """Rebuild from `to_json`; refuses a list that is not in LabelSet order (ids would shift)."""
        ls = cls(types_of(labels))
        if list(labels) != ls.labels:
            raise DataError(f"label list {list(labels)} is not a LabelSet list (expected {ls.labels})")
        return ls
