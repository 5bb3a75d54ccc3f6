"""Span scores equal seqeval: strict IOB2 on valid BIO, default (conlleval) mode on any sequence."""

from __future__ import annotations

import random
import warnings

import pytest
from seqeval.metrics import accuracy_score, classification_report, f1_score, precision_score, recall_score
from seqeval.scheme import IOB2

from seqlab_spec.data.schemes import to_bio
from seqlab_spec.errors import DataError
from seqlab_spec.evaluate import format_scores, span_scores

TYPES = ["A", "B", "creative-work"]


def random_valid_bio(rng: random.Random, n: int) -> list[str]:
    out: list[str] = []
    for _ in range(n):
        r = rng.random()
        if out and out[-1] != "O" and r < 0.35:
            out.append("I-" + out[-1][2:])
        elif r < 0.6:
            out.append("O")
        else:
            out.append("B-" + rng.choice(TYPES))
    return out


def random_any(rng: random.Random, n: int) -> list[str]:
    return [rng.choice(["O", "O"] + [f"{p}-{t}" for p in "BI" for t in TYPES]) for _ in range(n)]


def perturb(rng: random.Random, tags: list[str], make) -> list[str]:
    """A prediction near gold (so that some spans match), with random edits."""
    out = list(tags)
    for i in range(len(out)):
        if rng.random() < 0.3:
            out[i] = make(rng, 1)[0]
    return out


def drop_dangling_i(tags: list[str]) -> list[str]:
    """Make a sequence valid BIO independently of the code under test: a dangling I-X becomes O."""
    out: list[str] = []
    for t in tags:
        ok = t[0] != "I" or (out and out[-1] != "O" and out[-1][2:] == t[2:])
        out.append(t if ok else "O")
    return out


def corpus(
    rng: random.Random, make, n_sent: int, valid: bool = False
) -> tuple[list[list[str]], list[list[str]]]:
    gold = [make(rng, rng.randint(1, 9)) for _ in range(n_sent)]
    pred = [perturb(rng, g, make) for g in gold]
    if valid:
        pred = [drop_dangling_i(p) for p in pred]
    return gold, pred


def seqeval_report(gold, pred, **kw) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return classification_report(gold, pred, output_dict=True, **kw)


def assert_equals_report(ours: dict, rep: dict) -> None:
    types = [k for k in rep if not k.endswith(" avg")]
    assert sorted(ours["per_label"]) == sorted(types)
    for t in types:
        for key, ref in (
            ("precision", "precision"),
            ("recall", "recall"),
            ("f1", "f1-score"),
            ("support", "support"),
        ):
            assert ours["per_label"][t][key] == rep[t][ref], (t, key)
    micro = rep["micro avg"]
    assert (ours["precision"], ours["recall"], ours["f1"]) == (
        micro["precision"],
        micro["recall"],
        micro["f1-score"],
    )
    assert ours["micro"] == {"precision": ours["precision"], "recall": ours["recall"], "f1": ours["f1"]}
    assert ours["n_gold"] == micro["support"]
    if types:
        macro = rep["macro avg"]
        assert (ours["macro"]["precision"], ours["macro"]["recall"], ours["macro"]["f1"]) == (
            macro["precision"],
            macro["recall"],
            macro["f1-score"],
        )


def test_equals_seqeval_strict_iob2_on_valid_bio():
    rng = random.Random(0)
    for _ in range(250):
        gold, pred = corpus(rng, random_valid_bio, rng.randint(1, 6), valid=True)
        assert all(drop_dangling_i(s) == s for s in gold + pred)
        ours = span_scores(gold, pred)
        assert_equals_report(ours, seqeval_report(gold, pred, mode="strict", scheme=IOB2))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert ours["f1"] == f1_score(gold, pred, mode="strict", scheme=IOB2)
            assert ours["token_accuracy"] == accuracy_score(gold, pred)


def test_equals_seqeval_default_mode_on_arbitrary_sequences():
    rng = random.Random(1)
    n_invalid = 0
    for _ in range(250):
        gold, pred = corpus(rng, random_any, rng.randint(1, 6))
        n_invalid += sum(to_bio(p)[1] for p in pred) + sum(to_bio(g)[1] for g in gold)
        ours = span_scores(gold, pred)
        assert_equals_report(ours, seqeval_report(gold, pred))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert ours["precision"] == precision_score(gold, pred)
            assert ours["recall"] == recall_score(gold, pred)
            assert ours["f1"] == f1_score(gold, pred)
        # ... which is seqeval's strict IOB2 after the repair, and token accuracy is over the repair
        rg, rp = [to_bio(g)[0] for g in gold], [to_bio(p)[0] for p in pred]
        assert_equals_report(ours, seqeval_report(rg, rp, mode="strict", scheme=IOB2))
        assert ours["token_accuracy"] == accuracy_score(rg, rp)
    assert n_invalid > 500  # the random sequences really are invalid BIO, often


def test_strict_seqeval_differs_on_invalid_and_we_follow_conlleval():
    gold = [["B-A", "I-A", "O"]]
    pred = [["I-A", "I-A", "O"]]  # a span opened by I-: conlleval reads it, strict IOB2 drops it
    assert span_scores(gold, pred)["f1"] == 1.0 == f1_score(gold, pred)
    assert f1_score(gold, pred, mode="strict", scheme=IOB2) == 0.0


def test_hand_example_exact():
    gold = [["B-A", "I-A", "O", "B-B"], ["B-A", "O"]]
    pred = [["B-A", "I-A", "O", "B-A"], ["B-A", "I-A"]]
    s = span_scores(gold, pred)
    assert s["per_label"] == {
        "A": {"precision": 1 / 3, "recall": 0.5, "f1": 0.4, "support": 2},
        "B": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1},
    }
    assert (s["n_gold"], s["n_pred"], s["n_correct"]) == (3, 3, 1)
    assert s["precision"] == s["recall"] == s["f1"] == 1 / 3
    assert s["macro"] == {"precision": 1 / 6, "recall": 0.25, "f1": 0.2}
    assert s["micro"] == {"precision": 1 / 3, "recall": 1 / 3, "f1": 1 / 3}
    assert s["token_accuracy"] == 4 / 6 and s["n_sentences"] == 2 and s["n_tokens"] == 6


def test_zero_division_cases():
    nothing = span_scores([["O", "O"]], [["O", "O"]])
    assert (nothing["precision"], nothing["recall"], nothing["f1"]) == (0.0, 0.0, 0.0)
    assert nothing["per_label"] == {}
    assert nothing["macro"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0}  # seqeval: nan
    assert nothing["token_accuracy"] == 1.0
    no_pred = span_scores([["B-A", "O"]], [["O", "O"]])
    assert no_pred["per_label"]["A"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    no_gold = span_scores([["O", "O"]], [["B-A", "O"]])
    assert no_gold["per_label"]["A"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert_equals_report(no_gold, seqeval_report([["O", "O"]], [["B-A", "O"]], mode="strict", scheme=IOB2))
    empty = span_scores([], [])
    assert (empty["f1"], empty["token_accuracy"], empty["n_sentences"]) == (0.0, 0.0, 0)


def test_mismatched_inputs():
    with pytest.raises(DataError, match="^2 gold sentences but 1 predicted"):
        span_scores([["O"], ["O"]], [["O"]])
    with pytest.raises(DataError, match="^sentence 1: 2 gold tags but 1 predicted"):
        span_scores([["O"], ["O", "O"]], [["O"], ["O"]])
    with pytest.raises(DataError, match="^sentence 0: tag 'S-A' is not a bio tag"):
        span_scores([["O"]], [["S-A"]])


def test_format_scores_table():
    s = span_scores([["B-A", "I-A", "O", "B-creative-work"]], [["B-A", "I-A", "O", "O"]])
    assert format_scores(s).splitlines() == [
        "label          precision     recall         f1  support",
        "A                 1.0000     1.0000     1.0000        1",
        "creative-work     0.0000     0.0000     0.0000        1",
        "-------------------------------------------------------",
        "micro             1.0000     0.5000     0.6667        2",
        "macro             0.5000     0.5000     0.5000        2",
        "token accuracy 0.7500 over 4 tokens in 1 sentences",
    ]
