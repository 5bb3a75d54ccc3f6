"""method: unmask end to end on a tiny local Llama (real SmolLM2 tokenizer): sweep, run folders, predict, notebook."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT, TINY, without_timings
from tiny_models import tiny_causal_lm

from seqlab_spec.evaluation.predict_file import predict_file
from seqlab_spec.runner.execute import run_spec
from seqlab_spec.spec.load import load_spec

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory) -> Path:
    """A 4-layer random Llama with SmolLM2's tokenizer, saved like any local model folder."""
    from seqlab_spec.models.registry import load_tokenizer, resolve

    tok = load_tokenizer(resolve("smollm2-135m"))
    model = tiny_causal_lm("llama", vocab_size=len(tok), seed=1)
    path = tmp_path_factory.mktemp("tiny-llama")
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


def _unmask_spec(model_dir: Path, patterns: list[str]):
    sets = [
        *TINY,
        f"model.name={model_dir}",
        "model.peft.method=lora",
        "model.peft.r=4",
        "method.name=unmask",
        f"method.unmask=[{','.join(patterns)}]",
    ]
    return load_spec(ROOT / "specs" / "quickstart.yaml", sets + ["run.notebook=null"])


def test_pattern_sweep_runs_one_folder_per_pattern_and_predict_matches(tiny_llama: Path, tmp_path: Path) -> None:
    spec = _unmask_spec(tiny_llama, ["0000", "0110"])
    runs = run_spec(spec, tmp_path, use_notebook=False)
    assert [r.name.split("-2026")[0].split("-20")[0] for r in runs] == [
        "quickstart.unmask-0000",
        "quickstart.unmask-0110",
    ]
    for run, pattern in zip(runs, ["0000", "0110"], strict=True):
        meta = json.loads((run / "model" / "tagger.json").read_text())
        assert meta["pattern"] == pattern and meta["backbone"] == "lora"
        rows = [json.loads(line) for line in (run / "predictions.jsonl").read_text().splitlines()]
        test_rows = [r for r in rows if r["split"] == "test"]
        text = "".join(json.dumps({"tokens": r["tokens"]}) + "\n" for r in test_rows)
        # predict writes labels as the conlleval reading repairs them (the run folder keeps the raw tags too)
        assert [o["labels"] for o in predict_file(run, text, "in.jsonl")] == [r["pred_conlleval"] for r in test_rows]
    reports = list(tmp_path.glob("quickstart-sweep-*/report.md"))
    assert len(reports) == 1
    table = reports[0].read_text()
    assert "unmask=0000" in table and "unmask=0110" in table


def test_two_runs_of_one_unmask_spec_are_identical(tiny_llama: Path, tmp_path: Path) -> None:
    """The decoder path repeats bit for bit too (LoRA init, dropout and batch order all follow the seed)."""
    spec = _unmask_spec(tiny_llama, ["0110"])
    a, b = (run_spec(spec, tmp_path / name, use_notebook=False)[0] for name in ("a", "b"))

    def log(run: Path) -> list[dict]:
        return without_timings([json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()])

    ma, mb = (json.loads((r / "metrics.json").read_text()) for r in (a, b))
    assert (ma["dev"], ma["test"]) == (mb["dev"], mb["test"])
    assert log(a) == log(b) and len(log(a)) > 2
    assert (a / "predictions.jsonl").read_text() == (b / "predictions.jsonl").read_text()


def test_the_notebooks_pattern_sweep_gives_the_metrics_of_training_each_pattern_by_hand(
    tiny_llama: Path, tmp_path: Path
) -> None:
    """Notebook 03 runs its other patterns with `sweep_spec` + `run_spec`: the same runs, with the same metrics,
    as building, fitting and scoring each pattern with the tagger pipeline's steps on the notebook's data."""
    from seqlab_spec.notebook import first_run, sweep_spec
    from seqlab_spec.pipelines import tagger

    spec = first_run(_unmask_spec(tiny_llama, ["0110"]))
    data = tagger.prepare_data(spec)
    by_hand = {}
    for p in ["0000", "1111"]:
        s = spec.model_copy(update={"method": spec.method.model_copy(update={"unmask": p})})
        model, tokenizer = tagger.build_model(s, data.labels)
        trainer = tagger.fit(s, model, tokenizer, data, tmp_path / f"hand-{p}")
        by_hand[p], _ = tagger.evaluate(s, trainer.model, tokenizer, data)
    runs = run_spec(sweep_spec(spec, "method.unmask", ["0110", "0000", "1111"], "nb"), tmp_path / "nb", False)
    assert [r.name.split("-20")[0] for r in runs] == ["nb.unmask-0000", "nb.unmask-1111"]
    for run, p in zip(runs, ["0000", "1111"], strict=True):
        saved = json.loads((run / "metrics.json").read_text())
        assert (saved["dev"], saved["test"]) == (by_hand[p]["dev"], by_hand[p]["test"])


def test_notebook_03_runs_with_a_demo_sweep_and_solutions(tiny_llama: Path, tmp_path: Path) -> None:
    import papermill as pm

    spec = _unmask_spec(tiny_llama, ["0110"])
    out = tmp_path / "03.ipynb"
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    pm.execute_notebook(
        str(ROOT / "notebooks" / "03_decoder_unmasking.ipynb"),
        str(out),
        parameters={
            "spec": spec.model_dump(mode="json"),
            "run_dir": str(run_dir),
            "solutions": True,
            "demo_sweep": ["1111"],
        },
        kernel_name="python3",
        cwd=str(ROOT / "notebooks"),
        progress_bar=False,
    )
    text = out.read_text()
    assert "✓ masks of 0110 on 30 layers" in text and "the first leaky layer is" in text
    assert (run_dir / "metrics.json").exists() and (run_dir / "model" / "tagger.json").exists()
    (pattern_run,) = (run_dir / "patterns").glob("*.unmask-1111-*")  # the demo sweep: a run folder per pattern
    assert json.loads((pattern_run / "metrics.json").read_text())["dev"]["n_sentences"] > 0
    assert (run_dir / "patterns_f1.png").is_file() and "| method.unmask=1111 | unmask |" in text
