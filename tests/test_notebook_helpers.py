"""What the teaching notebooks call instead of holding logic: the spec a notebook steps through (per device, its
first run, a run folder holding it), the spec and view of a notebook's small comparison, the F1 lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from conftest import ROOT

from seqlab_spec.notebook import comparison, default_spec, first_run, resolve_params, split_f1_lines, sweep_spec
from seqlab_spec.runner.report import compare
from seqlab_spec.runner.rundir import load_run, write_resolved_spec
from seqlab_spec.runner.sweep import expand
from seqlab_spec.shipped import shipped_spec
from seqlab_spec.spec.load import load_spec

SMALL = ["data.limit.train=1500", "train.epochs=1"]


def _unmask(patterns: str):
    sets = ["model.name=smollm2-135m", "method.name=unmask", f"method.unmask={patterns}", "run.notebook=null"]
    return load_spec(ROOT / "specs" / "quickstart.yaml", sets)


# ------------------------------------------------------------------------------------- the spec per device


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the choice on a machine without CUDA")
def test_without_cuda_the_cpu_spec_is_chosen() -> None:
    chosen = default_spec(None, [], cpu="encoder_wnut17_cpu", gpu="encoder_wnut17_gpu")
    assert chosen == (shipped_spec("encoder_wnut17_cpu"), [])


def test_with_cuda_the_gpu_spec_is_chosen_and_the_cpu_overrides_are_not_applied(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert default_spec(None, [], cpu="unmask_conll03_cpu", gpu="unmask_conll03_gpu") == (
        shipped_spec("unmask_conll03_gpu"),
        [],
    )
    # one spec for both devices: the same spec, without the CPU's smaller settings
    assert default_spec(None, [], cpu="oie_litbank_to_tempeval", cpu_overrides=SMALL) == (
        shipped_spec("oie_litbank_to_tempeval"),
        [],
    )


def test_on_a_cpu_the_cpu_overrides_apply_only_when_none_are_given(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    sift = shipped_spec("sift_wnut17_cpu")
    assert default_spec(None, [], cpu="sift_wnut17_cpu", gpu="sift_conll03_gpu") == (sift, [])
    oie = shipped_spec("oie_litbank_to_tempeval")
    assert default_spec(None, [], cpu="oie_litbank_to_tempeval", cpu_overrides=SMALL) == (oie, SMALL)
    assert default_spec(None, ["train.epochs=2"], cpu="oie_litbank_to_tempeval", cpu_overrides=SMALL) == (
        oie,
        ["train.epochs=2"],
    )


def test_a_given_spec_path_is_kept_with_its_overrides_on_any_device(monkeypatch) -> None:
    for cuda in (False, True):
        monkeypatch.setattr(torch.cuda, "is_available", lambda cuda=cuda: cuda)
        got = default_spec("my.yaml", [], cpu="oie_litbank_to_tempeval", gpu="x", cpu_overrides=SMALL)
        assert got == (Path("my.yaml"), [])


# ----------------------------------------------------------------------- the one run a notebook steps through


def test_first_run_of_a_pattern_list_is_its_first_pattern(capsys) -> None:
    spec = _unmask("[0110,0000]")
    first = first_run(spec)
    assert first.method.unmask == "0110" and first.name == spec.name
    assert first.model_dump(exclude={"method"}) == spec.model_dump(exclude={"method"})
    assert capsys.readouterr().out == (
        "the spec asks for several runs; this notebook steps through the first (method.unmask=0110)\n"
    )
    one = _unmask("'0110'")
    assert first_run(one) is one and capsys.readouterr().out == ""
    assert first_run(_unmask("[0110]")) == one and capsys.readouterr().out == ""  # a list of one: no choice made


def test_resolve_params_writes_the_run_it_steps_through_into_the_run_folder(tmp_path: Path) -> None:
    spec = _unmask("[0110,0000]")
    parsed, run_dir = resolve_params(spec.model_dump(mode="json"), None, str(tmp_path))
    assert run_dir == tmp_path and parsed.method.unmask == "0110"
    saved, metrics = load_run(tmp_path)
    assert saved == parsed and metrics == {}
    # a folder with its spec.yaml (`seqlab-spec run` wrote it) keeps it as it is
    (tmp_path / "spec.yaml").write_text("kept: true\n")
    resolve_params(spec.model_dump(mode="json"), None, str(tmp_path))
    assert (tmp_path / "spec.yaml").read_text() == "kept: true\n"


# ------------------------------------------------------------------------------------ a notebook's sweep


def test_sweep_spec_runs_the_other_values_once_each_with_the_settings() -> None:
    spec = first_run(_unmask("[0110]"))
    sweep = sweep_spec(spec, "method.unmask", ["0000", "0110", "1111", "0000"], "demo", {"train.max_steps": 3})
    assert sweep.sweep == {"method.unmask": ["0000", "1111"]} and sweep.name == "demo"
    runs = expand(sweep)
    assert [(s.name, s.method.unmask, s.train.max_steps) for s in runs] == [
        ("demo.unmask-0000", "0000", 3),
        ("demo.unmask-1111", "1111", 3),
    ]
    assert spec.train.max_steps != 3 and spec.sweep == {}  # the notebook's own spec is untouched
    assert sweep_spec(spec, "method.unmask", ["0110"], "demo") is None
    assert sweep_spec(spec, "method.unmask", [], "demo") is None


def test_sweep_spec_replaces_the_specs_own_sweep() -> None:
    spec = load_spec(ROOT / "specs" / "quickstart.yaml", ["sweep={train.seed: [1, 2]}", "run.notebook=null"])
    sweep = sweep_spec(spec, "train.lr", [1e-3], "lr")
    assert sweep.sweep == {"train.lr": [1e-3]} and len(expand(sweep)) == 1


def _run_folder(path: Path, spec, dev: float, test: float) -> Path:
    path.mkdir()
    write_resolved_spec(path, spec)
    scores = {s: {"headline": "strict", "strict": {"micro": {"f1": f1}}} for s, f1 in [("dev", dev), ("test", test)]}
    (path / "metrics.json").write_text(json.dumps(scores))
    return path


def test_comparison_is_the_reports_table_with_its_bars_written(tmp_path: Path) -> None:
    spec = first_run(_unmask("[0110]"))
    a = _run_folder(tmp_path / "a", spec, 0.5, 0.25)
    b = _run_folder(tmp_path / "b", expand(sweep_spec(spec, "method.unmask", ["1111"], "x"))[0], 0.75, 0.5)
    png = tmp_path / "f1.png"
    table = comparison([a, b], png, "per pattern")
    assert table == compare([a, b])[0]
    assert "| method.unmask=0110 | unmask | smollm2-135m | a | strict | 0.5000 | 0.2500 |" in table.splitlines()
    assert "| method.unmask=1111 | unmask | smollm2-135m | b | strict | 0.7500 | 0.5000 |" in table.splitlines()
    assert png.read_bytes().startswith(b"\x89PNG")


# ------------------------------------------------------------------------------------------------ F1 lines


def test_split_f1_lines_names_the_reading_and_skips_splits_not_scored() -> None:
    def split(reading: str, f1: float, p: float, r: float, conlleval: float) -> dict:
        micro = {"f1": f1, "precision": p, "recall": r}
        return {"headline": reading, reading: {"micro": micro}, "conlleval": {"micro": {**micro, "f1": conlleval}}}

    metrics = {"source_dev": split("strict", 0.5, 0.6, 0.4, 0.55), "target_test": split("strict", 0.25, 1, 0.125, 0.3)}
    assert split_f1_lines(metrics, ["source_dev", "source_test", "target_test"]).splitlines() == [
        "source_dev   F1 0.5000  (P 0.6000  R 0.4000; strict reading; conlleval 0.5500)",
        "target_test  F1 0.2500  (P 1.0000  R 0.1250; strict reading; conlleval 0.3000)",
    ]
    assert split_f1_lines(metrics, ["test"]) == ""



# ------------------------------------------------------------------------------------------------ views


def _row(split: str, gold: list[str], pred: list[str]) -> dict:
    return {"split": split, "tokens": [f"w{i}" for i in range(len(gold))], "gold": gold, "pred": pred}


def test_compare_html_shows_the_rows_of_a_split_or_only_its_errors() -> None:
    from seqlab_spec.notebook import compare_html

    right, wrong = _row("test", ["B-X", "O"], ["B-X", "O"]), _row("test", ["O", "B-X"], ["B-X", "O"])
    dev = _row("dev", ["O", "O"], ["B-X", "O"])
    rows = [dev, right, wrong, wrong]
    assert compare_html(rows, n=2, split="test") == compare_html([right, wrong], n=2)
    assert compare_html(rows, n=5, split="test", errors=True) == compare_html([wrong, wrong], n=5)
    assert compare_html(rows, n=5, errors=True) == compare_html([dev, wrong, wrong], n=5)
    assert compare_html(rows, split="train") == "<table><tr><th>gold</th><th>predicted</th></tr></table>"


def test_first_labeled_is_the_first_sentence_with_a_span() -> None:
    from seqlab_spec.data.types import Sentence
    from seqlab_spec.notebook import first_labeled

    sentences = [Sentence(["a"], ["O"]), Sentence(["b", "c"], ["O", "B-X"]), Sentence(["d"], ["B-Y"])]
    assert first_labeled(sentences) == 1
    with pytest.raises(ValueError, match="^no sentence has a span: every tag is O$"):
        first_labeled(sentences[:1])


def test_trainable_parameters_count_only_what_the_optimizer_updates() -> None:
    from seqlab_spec.notebook import trainable_parameters

    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 1))  # 8 + 3 parameters
    model[0].requires_grad_(False)
    assert trainable_parameters(model) == 3


# ------------------------------------------------------------------ notebook 03: what a causal decoder sees


@pytest.fixture(scope="module")
def tiny_decoder(tmp_path_factory) -> tuple[Path, object]:
    """A seeded 4-layer Llama with SmolLM2's tokenizer, saved like any local model folder."""
    from tiny_models import tiny_base_model

    from seqlab_spec.models.registry import load_tokenizer, resolve

    tok = load_tokenizer(resolve("smollm2-135m"))
    path = tmp_path_factory.mktemp("tiny-decoder")
    tiny_base_model("llama", vocab_size=len(tok), seed=1).save_pretrained(path)
    tok.save_pretrained(path)
    return path, tok


def test_the_demo_backbone_is_the_specs_model_when_small_else_the_embedded_decoder(tiny_decoder, monkeypatch):
    from transformers import AutoModel

    from seqlab_spec.models.registry import resolve
    from seqlab_spec.notebook import demo_backbone

    path, _ = tiny_decoder
    name, backbone, tok = demo_backbone(str(path), params=1000, limit=1000)
    assert name == str(path) and backbone.config.num_hidden_layers == 4 and not backbone.training
    assert next(backbone.parameters()).dtype == torch.float32 and tok.pad_token is not None
    loaded = []
    monkeypatch.setattr(AutoModel, "from_pretrained", lambda p, dtype: loaded.append((p, dtype)) or backbone)
    assert demo_backbone(str(path), params=1001, limit=1000)[0] == "smollm2-135m"
    assert loaded == [(resolve("smollm2-135m").path, torch.float32)]


def test_the_first_word_sees_later_words_only_in_unmasked_layers(tiny_decoder) -> None:
    from seqlab_spec.notebook import changed_layers, demo_backbone, first_word_gap

    path, _ = tiny_decoder
    _, backbone, tok = demo_backbone(str(path), params=0)
    a, b = "Jordan scored thirty points".split(), "Jordan signed the peace treaty".split()
    assert first_word_gap(backbone, tok, a, b, "0000") < 1e-6
    assert first_word_gap(backbone, tok, a, b, "1111") > 1e-3
    assert changed_layers(backbone, tok, a, a[:-1] + ["goals"], "0000") == []
    assert changed_layers(backbone, tok, a, a[:-1] + ["goals"], "0011") == [2, 3]
    assert changed_layers(backbone, tok, a, a[:-1] + ["goals"], "0100") == [1, 2, 3]  # a leak flows upward
