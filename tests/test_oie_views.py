"""Notebook 02's views, from the library: the two domains' table (gold triggers over relation tags, beside the
triples), the few-shot curve's figure, and the comparison at small settings."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from seqlab_spec.data.types import Sentence
from seqlab_spec.evaluation.plots import few_shot_curve, mask_grid
from seqlab_spec.pipelines import oie_compare
from seqlab_spec.signals.oie import Triple

SPAN = (
    '<span style="background:#ffd8a8;padding:1px 3px;border-radius:3px">{}'
    '<sub style="font-size:70%"> {}</sub></span>'
)


def _sentence(text: str, tags: str) -> Sentence:
    return Sentence(text.split(), tags.split())


WALKED = _sentence("He walked home & slept", "O B-EVENT O O B-EVENT")


def test_the_domain_table_puts_gold_over_relations_beside_the_triples() -> None:
    rel = ["O", "B-REL", "O", "O", "O"]
    triples = [Triple((0,), (1,), (2,)), Triple((0,), (4,), ())]
    quiet = _sentence("It rained .", "O B-EVENT O")
    html = oie_compare.domain_table("source: a<b>.tsv", [WALKED, quiet], [triples, []], [rel, ["O", "O", "O"]])
    assert html == (
        "<table><tr><th colspan=2 style='text-align:left'>source: a&lt;b&gt;.tsv</th></tr>"
        f"<tr><td>gold: He {SPAN.format('walked', 'EVENT')} home &amp; {SPAN.format('slept', 'EVENT')}"
        f"<br>OIE: He {SPAN.format('walked', 'REL')} home &amp; slept</td>"
        "<td style='font-size:85%'>He ; walked ; home<br>He ; slept ; </td></tr>"
        f"<tr><td>gold: It {SPAN.format('rained', 'EVENT')} .<br>OIE: It rained .</td>"
        "<td style='font-size:85%'>(no triple)</td></tr></table>"
    )
    with pytest.raises(ValueError):  # one relation-tag row per sentence, or it says so
        oie_compare.domain_table("t", [WALKED, quiet], [triples, []], [rel])


def test_domain_examples_are_the_first_short_sentences_with_a_span() -> None:
    none = _sentence("a b c d e f", "O O O O O O")
    short = _sentence("a b", "B-EVENT O")
    long = _sentence(" ".join("x" * 26), "B-EVENT" + " O" * 25)
    fits = [_sentence(f"w{i} b c d e f", "B-EVENT O O O O O") for i in range(4)]
    assert oie_compare.domain_examples([none, short, long, *fits], n=3) == fits[:3]
    assert oie_compare.domain_examples([short, WALKED], n=3, min_words=2, max_words=5) == [short, WALKED]


def test_domain_html_shows_the_source_training_and_the_target_test_sentences(monkeypatch) -> None:
    source = _sentence("He walked home and then slept", "O B-EVENT O O O B-EVENT")
    target = _sentence("The army attacked the old city", "O O B-EVENT O O O")
    asked = []

    def extract(sentences, pipeline, progress):
        asked.append((sentences, pipeline, progress))
        return [[Triple((0,), (1,), (2,))] for _ in sentences]

    monkeypatch.setattr("seqlab_spec.signals.oie.extract", extract)
    data = SimpleNamespace(
        splits={"source_train": [WALKED, source], "target_test": [target]},
        rel_tags=lambda sentences: [["O"] * len(s) for s in sentences],
    )
    spec = SimpleNamespace(
        data=SimpleNamespace(train="/corpora/litbank/train.tsv", target=SimpleNamespace(test="tempeval/test.tsv")),
        signal=SimpleNamespace(pipeline="en_core_web_sm"),
    )
    html = oie_compare.domain_html(spec, data, n=3)  # type: ignore[arg-type]
    assert asked == [([source.tokens], "en_core_web_sm", False), ([target.tokens], "en_core_web_sm", False)]
    assert html == (
        oie_compare.domain_table("source: train.tsv", [source], [[Triple((0,), (1,), (2,))]], [["O"] * 6])
        + oie_compare.domain_table("target: test.tsv", [target], [[Triple((0,), (1,), (2,))]], [["O"] * 6])
    )


def test_small_curve_trains_on_at_most_the_source_it_has(monkeypatch, tmp_path: Path) -> None:
    seen = {}

    def prepare(spec):
        seen["prepared"] = spec
        return "small data"

    def curve(spec, data, out_dir, ks, seeds):
        seen["curve"] = (spec, data, out_dir, ks, seeds)
        return [{"injection": "none", "k": 0}]

    monkeypatch.setattr(oie_compare.oie, "prepare_data", prepare)
    monkeypatch.setattr(oie_compare.oie, "with_method", lambda spec, **kw: (spec, kw))
    monkeypatch.setattr(oie_compare, "with_settings", lambda spec, settings: settings)
    monkeypatch.setattr(oie_compare, "transfer_curve", curve)
    data = SimpleNamespace(splits={"source_train": [WALKED] * 5})
    rows = oie_compare.small_curve("spec", data, tmp_path, 800, ks=[2], seeds=[42])  # type: ignore[arg-type]
    small = {"data.limit.train": 5, "train.batch_size": 16}
    assert rows == [{"injection": "none", "k": 0}]
    assert seen == {"prepared": (small, {"regime": "zero-shot"}), "curve": (small, "small data", tmp_path, [2], [42])}
    oie_compare.small_curve("spec", data, tmp_path, 3, ks=[2], seeds=[42], batch_size=4)  # type: ignore[arg-type]
    assert seen["curve"][0] == {"data.limit.train": 3, "train.batch_size": 4}


def test_the_few_shot_curve_is_drawn_from_the_summary_and_saved(tmp_path: Path) -> None:
    rows = [
        {"injection": "none", "seed": 1, "k": 0, "target_test_f1": 0.25},
        {"injection": "none", "seed": 2, "k": 0, "target_test_f1": 0.75},
        {"injection": "none", "seed": 1, "k": 10, "target_test_f1": 0.5},
        {"injection": "none", "seed": 2, "k": 10, "target_test_f1": 0.5},
        {"injection": "explicit", "seed": 1, "k": 0, "target_test_f1": 0.375},
    ]
    fig = few_shot_curve(oie_compare.summarize(rows), tmp_path / "curve.png")
    assert (tmp_path / "curve.png").read_bytes().startswith(b"\x89PNG")
    (ax,) = fig.axes
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["none", "explicit"]
    data = [(list(c.lines[0].get_xdata()), list(c.lines[0].get_ydata())) for c in ax.containers]
    assert data == [([0, 10], [0.5, 0.5]), ([0], [0.375])]
    assert ax.get_xlabel() == "k target sentences (0 = zero-shot)" and ax.get_ylabel() == "target test span F1"


def test_the_mask_grid_draws_one_square_per_group(tmp_path: Path) -> None:
    from seqlab_spec.models.unmask import bidirectional_attention_matrix, group_layers

    fig = mask_grid(bidirectional_attention_matrix("01", 5, 4), group_layers(5, 2), "01", tmp_path / "m.png")
    assert (tmp_path / "m.png").read_bytes().startswith(b"\x89PNG")
    assert [ax.get_title() for ax in fig.axes] == ["group 0 (0)\nlayers 0–2", "group 1 (1)\nlayers 3–4"]
    assert [ax.images[0].get_array().sum() for ax in fig.axes] == [10, 16]  # causal 4x4, then all 16
    fig = mask_grid(bidirectional_attention_matrix("1", 2, 3), group_layers(2, 1), "1")
    assert len(fig.axes) == 1 and fig.axes[0].get_title() == "group 0 (1)\nlayers 0–1"


def test_the_data_summary_names_sizes_stages_and_the_test_split() -> None:
    stages = [
        SimpleNamespace(name="source", train=[WALKED] * 3, dev="source_dev"),
        SimpleNamespace(name="target", train=[WALKED], dev=None),
    ]
    data = SimpleNamespace(
        splits={"source_train": [WALKED] * 3, "target_test": [WALKED] * 2}, stages=stages, test_split="target_test"
    )
    assert oie_compare.data_summary(data).splitlines() == [  # type: ignore[arg-type]
        "{'source_train': 3, 'target_test': 2}",
        "stage source: 3 training sentences, model selection on source_dev",
        "stage target: 1 training sentences, model selection on nothing",
        "tested on target_test",
    ]


def test_notebook_02_needs_the_oie_signal_and_a_target_domain() -> None:
    from seqlab_spec.errors import SpecError

    def spec(signal: str, target: object) -> SimpleNamespace:
        return SimpleNamespace(signal=SimpleNamespace(name=signal), data=SimpleNamespace(target=target))

    oie_compare.check_two_domains(spec("oie", "t"))  # type: ignore[arg-type]
    for bad in (spec("none", "t"), spec("oie", None)):
        with pytest.raises(SpecError) as e:
            oie_compare.check_two_domains(bad)  # type: ignore[arg-type]
        assert e.value.rows == [
            "signal / data.target: notebook 02 shows relation tags in two domains: set signal: {name: oie} and "
            "data.target (injection: none still trains the vanilla model)"
        ]
