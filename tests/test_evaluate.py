"""Both readings equal seqeval on any sequences: strict IOB2 on the raw tags, and the default (conlleval) mode."""

from __future__ import annotations

import random
import warnings

import pytest
from seqeval.metrics import accuracy_score, classification_report, f1_score, precision_score, recall_score
from seqeval.scheme import IOB2

from seqlab_spec.data.schemes import to_bio
from seqlab_spec.errors import DataError
from seqlab_spec.evaluation.scores import (
    MODES,
    READINGS,
    format_scores,
    headline,
    headline_f1,
    plural,
    read_spans,
    span_scores,
    split_scores,
    strict_spans,
)

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
    assert ours["micro"] == {"precision": micro["precision"], "recall": micro["recall"], "f1": micro["f1-score"]}
    assert ours["n_gold"] == micro["support"]
    if types:
        macro = rep["macro avg"]
        assert ours["macro"] == {
            "precision": macro["precision"], "recall": macro["recall"], "f1": macro["f1-score"]
        }


def assert_both_readings(gold: list[list[str]], pred: list[list[str]]) -> dict:
    """Both readings of split_scores equal seqeval: strict IOB2 on the raw tags, and the default mode."""
    both = split_scores(gold, pred, "strict")
    strict, conll = both["strict"], both["conlleval"]
    assert_equals_report(strict, seqeval_report(gold, pred, mode="strict", scheme=IOB2))
    assert_equals_report(conll, seqeval_report(gold, pred))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert strict["micro"]["f1"] == f1_score(gold, pred, mode="strict", scheme=IOB2)
        assert strict["micro"]["precision"] == precision_score(gold, pred, mode="strict", scheme=IOB2)
        assert strict["micro"]["recall"] == recall_score(gold, pred, mode="strict", scheme=IOB2)
        assert conll["micro"]["f1"] == f1_score(gold, pred)
        assert conll["micro"]["precision"] == precision_score(gold, pred)
        assert conll["micro"]["recall"] == recall_score(gold, pred)
        assert strict["token_accuracy"] == accuracy_score(gold, pred)  # the raw tags
    # the conlleval reading is seqeval strict IOB2 after the repair, and its token accuracy is over the repair
    rg, rp = [to_bio(g)[0] for g in gold], [to_bio(p)[0] for p in pred]
    assert_equals_report(conll, seqeval_report(rg, rp, mode="strict", scheme=IOB2))
    assert conll["token_accuracy"] == accuracy_score(rg, rp)
    assert both["headline"] == "strict" and headline(both) == ("strict", strict)
    assert headline(split_scores(gold, pred, "conlleval")) == ("conlleval", conll)
    return both


def test_both_readings_equal_seqeval_on_valid_bio():
    rng = random.Random(0)
    for _ in range(250):
        gold, pred = corpus(rng, random_valid_bio, rng.randint(1, 6), valid=True)
        assert all(drop_dangling_i(s) == s for s in gold + pred)
        both = assert_both_readings(gold, pred)
        assert both["strict"] == both["conlleval"]  # valid BIO: the readings agree


def test_both_readings_equal_seqeval_with_invalid_predicted_sequences():
    """Gold valid BIO (as the loader leaves it), predictions anything: dangling I-, I-X after B-Y."""
    rng = random.Random(1)
    n_invalid = n_differ = 0
    for _ in range(300):
        gold = [random_valid_bio(rng, rng.randint(1, 9)) for _ in range(rng.randint(1, 6))]
        pred = [perturb(rng, g, random_any) for g in gold]
        n_invalid += sum(to_bio(p)[1] for p in pred)
        both = assert_both_readings(gold, pred)
        n_differ += both["strict"]["micro"] != both["conlleval"]["micro"]
    assert n_invalid > 300 and n_differ > 50  # the random predictions really are invalid BIO, and it matters


def test_both_readings_equal_seqeval_on_arbitrary_gold_and_pred():
    rng = random.Random(2)
    for _ in range(150):
        gold, pred = corpus(rng, random_any, rng.randint(1, 6))
        assert_both_readings(gold, pred)


def test_strict_drops_a_span_opened_by_i_and_conlleval_reads_it():
    gold = [["B-A", "I-A", "O"]]
    pred = [["I-A", "I-A", "O"]]
    both = split_scores(gold, pred, "strict")
    assert both["strict"]["micro"]["f1"] == 0.0 == f1_score(gold, pred, mode="strict", scheme=IOB2)
    assert both["conlleval"]["micro"]["f1"] == 1.0 == f1_score(gold, pred)
    assert strict_spans(["I-A", "I-A", "O", "B-A", "I-B", "B-C", "I-C"]) == [(3, 4, "A"), (5, 7, "C")]
    assert read_spans(["I-A", "I-A", "O"], "conlleval") == [(0, 2, "A")]


def test_hand_example_exact():
    gold = [["B-A", "I-A", "O", "B-B"], ["B-A", "O"]]
    pred = [["B-A", "I-A", "O", "B-A"], ["B-A", "I-A"]]
    s = span_scores(gold, pred)
    assert s["per_label"] == {
        "A": {"precision": 1 / 3, "recall": 0.5, "f1": 0.4, "support": 2},
        "B": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1},
    }
    assert (s["n_gold"], s["n_pred"], s["n_correct"]) == (3, 3, 1)
    assert s["macro"] == {"precision": 1 / 6, "recall": 0.25, "f1": 0.2}
    assert s["micro"] == {"precision": 1 / 3, "recall": 1 / 3, "f1": 1 / 3}
    assert s["token_accuracy"] == 4 / 6 and s["n_sentences"] == 2 and s["n_tokens"] == 6


def test_zero_division_cases():
    for mode in MODES:
        nothing = span_scores([["O", "O"]], [["O", "O"]], mode)
        assert nothing["micro"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
        assert nothing["per_label"] == {}
        assert nothing["macro"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0}  # seqeval: nan
        assert nothing["token_accuracy"] == 1.0
        no_pred = span_scores([["B-A", "O"]], [["O", "O"]], mode)
        assert no_pred["per_label"]["A"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
        no_gold = span_scores([["O", "O"]], [["B-A", "O"]], mode)
        assert no_gold["per_label"]["A"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
        empty = span_scores([], [], mode)
        assert (empty["micro"]["f1"], empty["token_accuracy"], empty["n_sentences"]) == (0.0, 0.0, 0)
    assert_both_readings([["O", "O"]], [["B-A", "O"]])


def test_mismatched_inputs():
    for mode in MODES:
        with pytest.raises(DataError, match="^2 gold sentences but 1 predicted"):
            span_scores([["O"], ["O"]], [["O"]], mode)
        with pytest.raises(DataError, match="^sentence 1: 2 gold tags but 1 predicted"):
            span_scores([["O"], ["O", "O"]], [["O"], ["O"]], mode)
        with pytest.raises(DataError, match="^sentence 0: tag 'S-A' is not a bio tag"):
            span_scores([["O"]], [["S-A"]], mode)
    with pytest.raises(ValueError, match="eval.mode: unknown reading 'lenient'; one of strict, conlleval"):
        split_scores([["O"]], [["O"]], "lenient")


def test_format_scores_names_its_reading():
    s = split_scores([["B-A", "I-A", "O", "B-creative-work"]], [["B-A", "I-A", "O", "I-creative-work"]], "strict")
    assert format_scores(s).splitlines() == [
        f"span scores, strict reading: {READINGS['strict']}",
        "label          precision     recall         f1  support",
        "A                 1.0000     1.0000     1.0000        1",
        "creative-work     0.0000     0.0000     0.0000        1",
        "-------------------------------------------------------",
        "micro             1.0000     0.5000     0.6667        2",
        "macro             0.5000     0.5000     0.5000        2",
        "token accuracy 0.7500 over 4 words in 1 sentence",
        "(conlleval reading: micro F1 1.0000)",
    ]
    c = split_scores([["B-A"]], [["I-A"]], "conlleval")
    lines = format_scores(c).splitlines()
    assert lines[0] == f"span scores, conlleval reading: {READINGS['conlleval']}"
    assert lines[-2:] == ["token accuracy 1.0000 over 1 word in 1 sentence", "(strict reading: micro F1 0.0000)"]


def test_headline_of_a_record_written_before_both_readings():
    old = {"micro": {"precision": 0.5, "recall": 0.5, "f1": 0.5}, "n_sentences": 1}
    assert headline(old) == ("conlleval", old)
    assert headline_f1({"test": old}, "test") == 0.5 and headline_f1({"test": old}, "dev") is None


def test_plural():
    assert [plural(n, "word") for n in (0, 1, 2)] == ["0 words", "1 word", "2 words"]


def test_prediction_rows_keep_raw_tags_and_rescore_to_the_headline():
    """predictions.jsonl rows: rescoring gold/pred with seqeval strict gives exactly the strict headline, also
    when the predictions are invalid BIO; the repaired tags sit under their own key."""
    from seqlab_spec.data.types import Sentence
    from seqlab_spec.pipelines.common import prediction_rows, score_split

    rng = random.Random(3)
    gold_tags = [random_valid_bio(rng, rng.randint(1, 9)) for _ in range(40)]
    pred = [perturb(rng, g, random_any) for g in gold_tags]
    assert sum(to_bio(p)[1] for p in pred) > 5
    gold = [Sentence([f"w{i}" for i in range(len(g))], g) for g in gold_tags]
    for mode in MODES:
        metrics = score_split(gold, pred, mode)
        rows = prediction_rows("test", gold, pred, "bio", mode)
        assert [r["pred"] for r in rows] == pred and [r["gold"] for r in rows] == gold_tags
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            strict = f1_score([r["gold"] for r in rows], [r["pred"] for r in rows], mode="strict", scheme=IOB2)
            conll = f1_score([r["gold"] for r in rows], [r["pred"] for r in rows])
        assert strict == metrics["strict"]["micro"]["f1"] != conll == metrics["conlleval"]["micro"]["f1"]
        assert headline(metrics)[1]["micro"]["f1"] == (strict if mode == "strict" else conll)
        assert [r["pred_conlleval"] for r in rows] == [to_bio(p)[0] for p in pred]
        assert [r["spans"] for r in rows] == [[list(s) for s in read_spans(p, mode)] for p in pred]
    iobes = prediction_rows("test", gold[:1], [["B-A"] + ["O"] * (len(gold[0]) - 1)], "iobes", "strict")[0]
    assert iobes["pred_iobes"][0] == "S-A" and len(iobes["gold_iobes"]) == len(gold[0].tokens)


def test_run_summary_names_the_reading():
    from seqlab_spec.data.types import Sentence
    from seqlab_spec.pipelines.common import prediction_rows, score_split
    from seqlab_spec.runner.report import summary_lines

    gold = [Sentence(["a", "b", "c"], ["B-A", "I-A", "O"])]
    pred = [["I-A", "I-A", "O"]]
    for mode, line in (
        ("strict", "test  span F1 0.0000  (P 0.0000  R 0.0000; strict reading; conlleval 1.0000)"),
        ("conlleval", "test  span F1 1.0000  (P 1.0000  R 1.0000; conlleval reading; strict 0.0000)"),
    ):
        metrics = {"test": score_split(gold, pred, mode)}
        rows = prediction_rows("test", gold, pred, "bio", mode)
        assert summary_lines(metrics, rows, 1).splitlines() == [line, "  a/I-A b/I-A c"]
