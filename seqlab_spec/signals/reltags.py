"""Triples -> one B-REL/I-REL tag per word, following the recipe of Dukić et al. (EACL 2024 Findings).

Their preparation of OIE output (MinIE / Stanford OIE) for the multitask models, per sentence:
1. keep a triple only if its subject, relation and object are all non-empty, each a contiguous span,
   the relation is at most 5 words, and the slots come in subject-relation-object order (every
   subject word before every relation word before every object word);
2. tag each kept triple in BIO over its three slots;
3. if the kept triples touch disjoint words, merge them into one tagging; otherwise keep the single
   triple with the most tagged (subject + relation + object) words, the first on a tie.
Only the relation survives into the signal: B-REL/I-REL on relation words, O everywhere else.

One deliberate difference: identical triples are counted once before step 3 (the reference would
treat two copies of a triple as overlapping and so refuse to merge a third, disjoint one).
Nothing here needs spaCy: any OIE system's triples can be fed through `relation_tags_for`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .oie import Triple

REL_LABELS: tuple[str, ...] = ("O", "B-REL", "I-REL")
REL_ID: dict[str, int] = {t: i for i, t in enumerate(REL_LABELS)}
MAX_RELATION_WORDS = 5


def _contiguous(slot: Sequence[int]) -> bool:
    return all(b == a + 1 for a, b in zip(slot, slot[1:], strict=False))


def is_valid(triple: Triple, n_words: int, max_relation_words: int = MAX_RELATION_WORDS) -> bool:
    """Step 1 of the recipe: non-empty, contiguous, short relation, subject-relation-object order."""
    slots = (triple.subject, triple.relation, triple.object)
    if any(not s for s in slots):
        return False
    if any(list(s) != sorted(set(s)) or not _contiguous(s) for s in slots):
        return False
    if len(triple.relation) > max_relation_words:
        return False
    if triple.subject[0] < 0 or triple.object[-1] >= n_words:
        return False
    return triple.subject[-1] < triple.relation[0] and triple.relation[-1] < triple.object[0]


def triple_bio(triple: Triple, n_words: int) -> list[str]:
    """Step 2: BIO over the three slots (SUB/REL/OBJ) of one valid triple."""
    tags = ["O"] * n_words
    for slot, label in ((triple.subject, "SUB"), (triple.relation, "REL"), (triple.object, "OBJ")):
        for k, i in enumerate(slot):
            tags[i] = f"{'B' if k == 0 else 'I'}-{label}"
    return tags


def merge(taggings: Sequence[list[str]]) -> list[str] | None:
    """Step 3: the union of taggings that touch disjoint words, or the one with most tagged words."""
    if not taggings:
        return None
    n = len(taggings[0])
    if all(sum(t[i] != "O" for t in taggings) <= 1 for i in range(n)):
        return [next((t[i] for t in taggings if t[i] != "O"), "O") for i in range(n)]
    best = taggings[0]
    for t in taggings[1:]:
        if sum(x != "O" for x in t) > sum(x != "O" for x in best):
            best = t
    return best


def relation_tags_for(
    n_words: int, triples: Iterable[Triple], max_relation_words: int = MAX_RELATION_WORDS
) -> list[str]:
    """The sentence's relation tags: filter, tag, merge, keep only the relation (O elsewhere)."""
    kept = list(dict.fromkeys(t for t in triples if is_valid(t, n_words, max_relation_words)))
    merged = merge([triple_bio(t, n_words) for t in kept])
    if merged is None:
        return ["O"] * n_words
    return [t if t.endswith("-REL") else "O" for t in merged]
