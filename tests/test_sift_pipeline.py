"""Method sift end to end on a tiny random Llama saved to disk: run folder, parser counts, predict, sweeps."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import torch
from conftest import without_timings
from test_sift_helpers import CORPUS, bpe_tokenizer
from tiny_models import single_thread, tiny_causal_lm

from seqlab_spec.data.types import Sentence
from seqlab_spec.errors import ModelError
from seqlab_spec.pipelines import sift
from seqlab_spec.runner.rundir import create_run_dir, write_resolved_spec
from seqlab_spec.sift.formats import COUNT_KEYS
from seqlab_spec.sift.masks import IGNORE
from seqlab_spec.sift.prompt import build_prompt
from seqlab_spec.spec import Spec

ROOT = Path(__file__).resolve().parents[1]
SPLITS = {"train": CORPUS, "dev": CORPUS[:3], "test": CORPUS[5:8]}


def _write_conll(path: Path, sents: list[Sentence]) -> None:
    path.write_text("".join("".join(f"{w}\t{t}\n" for w, t in zip(s.tokens, s.tags, strict=True)) + "\n"
                            for s in sents))


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory) -> Path:
    """A folder with `model/` (tiny random Llama + byte-level BPE tokenizer) and train/dev/test CoNLL files."""
    root = tmp_path_factory.mktemp("sift_tiny")
    tok = bpe_tokenizer()
    model = tiny_causal_lm(
        "llama", vocab_size=len(tok), pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
        bos_token_id=tok.eos_token_id, max_position_embeddings=1024,
    )
    model.save_pretrained(root / "model")
    tok.save_pretrained(root / "model")
    for split, sents in SPLITS.items():
        _write_conll(root / f"{split}.conll", sents)
    return root


def spec_dict(root: Path, **sections: Any) -> dict:
    d: dict[str, Any] = {
        "name": "sift-tiny",
        "task": {"type": "ner", "scheme": "bio"},
        "data": {
            "format": "conll", **{s: str(root / f"{s}.conll") for s in SPLITS},
            "columns": {"token": 0, "label": 1, "separator": "tab"},
        },
        "model": {"name": str(root / "model"),
                  "peft": {"method": "lora", "r": 4, "alpha": 8, "dropout": 0.0, "target_modules": "all-linear"}},
        "method": {"name": "sift", "k": 1, "max_new_tokens": 6},
        "train": {"max_steps": 2, "batch_size": 4, "lr": 1e-2, "logging_steps": 1, "seed": 3, "precision": "fp32"},
        "eval": {"batch_size": 2},
        "run": {"out_dir": str(root / "runs")},
    }
    for key, value in sections.items():
        d[key] = {**d.get(key, {}), **value} if isinstance(value, dict) else value
    return d


@pytest.fixture(scope="module")
def tiny_run(tiny_root: Path) -> Path:
    spec = Spec.model_validate(spec_dict(tiny_root))
    run_dir = create_run_dir(tiny_root / "runs", spec.name)
    write_resolved_spec(run_dir, spec)  # as the runner does before the pipeline
    with single_thread():
        sift.run(spec, run_dir)
    return run_dir


def _rows(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()]


def test_run_writes_the_run_folder_with_parser_counts(tiny_run: Path) -> None:
    names = {p.name for p in tiny_run.iterdir()}
    assert {"metrics.json", "predictions.jsonl", "train_log.jsonl", "learning_curve.png", "model"} <= names
    assert "checkpoints" not in names and not any(n.startswith(".model.") for n in names)
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    assert set(metrics) == {"dev", "test", "scoring", "meta"}
    for split in ("dev", "test"):
        m = metrics[split]
        assert m["n_sentences"] == 3 and set(m["strict"]["micro"]) == {"precision", "recall", "f1"}
        assert m["strict"] == m["conlleval"]  # parsed spans are valid BIO: the readings agree
        assert set(m["parser"]) == {*COUNT_KEYS, "sentences", "unfinished"}
        assert m["parser"]["sentences"] == 3 and 0 <= m["parser"]["unfinished"] <= 3
        # every generated token is counted: at most max_new_tokens (6) per sentence
        assert 3 <= m["generation"]["new_tokens"] <= 18 and m["generation"]["seconds"] >= 0
    rows = _rows(tiny_run)
    assert [r["split"] for r in rows] == ["dev"] * 3 + ["test"] * 3
    assert [r["tokens"] for r in rows] == [s.tokens for s in SPLITS["dev"] + SPLITS["test"]]
    assert all(isinstance(r["generated"], str) and len(r["pred"]) == len(r["tokens"]) for r in rows)
    log = [json.loads(line) for line in (tiny_run / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log if "loss" in r] == [1, 2]
    assert not any("eval_loss" in r for r in log)  # no dev pass during training (module doc)


def test_model_folder_holds_adapter_prompt_settings_and_pool(tiny_run: Path) -> None:
    model_dir = tiny_run / "model"
    names = {p.name for p in model_dir.iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "sift.json", "demos.jsonl"} <= names
    assert "model.safetensors" not in names  # the adapter only, not the base
    meta = json.loads((model_dir / "sift.json").read_text())
    assert meta["prompt"] == {"labels": ["LOC", "MISC", "ORG", "PER"], "task": "ner", "instruction": True,
                              "fmt": "lines", "none_word": "none", "chat": False, "end": "</s>"}
    assert (meta["k"], meta["selection"], meta["seed"], meta["loss_strategy"]) == (1, "random", 3, "mrc")
    pool = [json.loads(line) for line in (model_dir / "demos.jsonl").read_text().splitlines()]
    assert pool == [{"tokens": s.tokens, "tags": s.tags} for s in SPLITS["train"]]


def test_predict_on_the_saved_model_equals_the_evaluation(tiny_run: Path, tiny_root: Path) -> None:
    spec = Spec.model_validate(spec_dict(tiny_root))
    test_rows = [r for r in _rows(tiny_run) if r["split"] == "test"]
    sentences = [r["tokens"] for r in test_rows]
    with single_thread():
        tags = sift.predict(tiny_run / "model", spec, sentences, batch_size=spec.eval.batch_size)
        model, tok, cfg, selector = sift.load_for_predict(tiny_run / "model", spec)
        queries = [Sentence(s, ["O"] * len(s)) for s in sentences]
        texts = sift.generate_split(spec, model, tok, cfg, selector, queries, spec.eval.batch_size).texts
    assert tags == [r["pred"] for r in test_rows]
    assert texts == [r["generated"] for r in test_rows]  # same demos, same adapter, same generation


def test_the_predict_command_reads_a_sift_run_folder(tiny_run: Path) -> None:
    from seqlab_spec.evaluation.predict_file import predict_file

    test_rows = [r for r in _rows(tiny_run) if r["split"] == "test"]
    text = "".join(json.dumps({"tokens": r["tokens"]}) + "\n" for r in test_rows)
    with single_thread():
        out = predict_file(tiny_run, text, "input.jsonl", batch_size=2)
    assert [o["labels"] for o in out] == [r["pred"] for r in test_rows]


def test_a_folder_without_sift_settings_is_refused(tmp_path: Path, tiny_root: Path) -> None:
    spec = Spec.model_validate(spec_dict(tiny_root))
    with pytest.raises(ModelError, match=r"no sift\.json; this is not a sift model folder"):
        sift.load_for_predict(tmp_path, spec)


def _loss_tokens(examples: list[dict]) -> int:
    return sum(sum(t != IGNORE for t in ex["labels"]) for ex in examples)


def test_the_strategy_decides_which_tokens_carry_loss(tiny_root: Path) -> None:
    tok = bpe_tokenizer()
    counts = {}
    for strategy in ("vanilla", "src", "mrc", "auto"):
        spec = Spec.model_validate(spec_dict(tiny_root, loss={"strategy": strategy}, method={"k": 2}))
        data = sift.prepare_data(spec)
        cfg = sift.prompt_config(spec, data.labels, tok)
        examples = sift.train_examples(spec, tok, data.splits["train"], cfg)
        assert [ex["length"] for ex in examples] == [len(ex["input_ids"]) for ex in examples]
        counts[strategy] = _loss_tokens(examples)
        if strategy == "vanilla":
            assert counts[strategy] == sum(len(ex["input_ids"]) for ex in examples)
    # src: each query's response; mrc adds the responses of the two demonstrations of each prompt
    response_tokens = [
        len(tok(build_prompt(s, [], cfg).text.split("Entities:")[-1], add_special_tokens=False)["input_ids"])
        for s in CORPUS
    ]
    assert counts["src"] == sum(response_tokens)
    demo_picks = sift.selector_for(spec, CORPUS).select_many(range(len(CORPUS)), 2)
    assert counts["mrc"] == sum(response_tokens) + sum(response_tokens[j] for picks in demo_picks for j in picks)
    assert counts["auto"] == counts["mrc"] and counts["vanilla"] > counts["mrc"] > counts["src"]


def test_fit_trains_only_the_adapter(tiny_root: Path, tmp_path: Path) -> None:
    spec = Spec.model_validate(spec_dict(
        tiny_root, model={"name": str(tiny_root / "model"),
                          "peft": {"method": "lora", "r": 2, "alpha": 4, "dropout": 0.0,
                                   "target_modules": ["q_proj", "v_proj"]}}))
    data = sift.prepare_data(spec)
    with single_thread():
        model, tok = sift.build_model(spec, data.labels)
        before = {n: p.detach().clone() for n, p in model.named_parameters()}
        sift.fit(spec, model, tok, data, tmp_path)
    changed = {n for n, p in model.named_parameters() if not torch.equal(before[n], p)}
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(("q_proj.lora_" in n or "v_proj.lora_" in n) for n in trainable)
    assert changed and changed <= trainable  # the base weights never move
    assert not (tmp_path / "checkpoints").exists()


def test_a_sweep_over_strategies_gives_one_named_run_each(tiny_root: Path) -> None:
    from seqlab_spec.runner.sweep import expand

    spec = Spec.model_validate(spec_dict(tiny_root, sweep={"loss.strategy": ["vanilla", "src", "mrc"]}))
    runs = expand(spec)
    assert [s.name for s in runs] == ["sift-tiny.strategy-vanilla", "sift-tiny.strategy-src", "sift-tiny.strategy-mrc"]
    assert [s.loss_strategy for s in runs] == ["vanilla", "src", "mrc"]
    base = copy.deepcopy(runs[0].model_dump(mode="json"))
    for s in runs[1:]:
        other = s.model_dump(mode="json")
        assert {k for k in base if base[k] != other[k]} == {"name", "loss"}
    grid = Spec.model_validate(spec_dict(tiny_root, sweep={
        "method.k": [0, 2], "method.selection": ["random", "bm25"], "method.instruction": [True, False]}))
    settings = [(s.method.k, s.method.selection, s.method.instruction) for s in expand(grid)]
    assert settings == [(k, sel, ins) for k in (0, 2) for sel in ("random", "bm25") for ins in (True, False)]
    assert expand(grid)[1].name == "sift-tiny.k-0-selection-random-instruction-False"


@pytest.mark.slow  # three tiny runs and a report: ~20 s
def test_sweep_runs_and_the_report_compares_the_strategies(tiny_root: Path, tmp_path: Path) -> None:
    from seqlab_spec.runner.execute import run_spec
    from seqlab_spec.runner.report import compare

    spec = Spec.model_validate(spec_dict(tiny_root, sweep={"loss.strategy": ["vanilla", "src", "mrc"]},
                                         eval={"splits": ["test"]}, run={"save_model": False}))
    with single_thread():
        runs = run_spec(spec, tmp_path, use_notebook=False)
    assert len(runs) == 3
    table, bars = compare(runs)
    assert [label for label, _, _ in bars] == ["loss.strategy=vanilla", "loss.strategy=src", "loss.strategy=mrc"]
    assert "| loss.strategy=src | sift |" in table
    (report,) = tmp_path.glob("sift-tiny-sweep-*/report.md")
    assert "loss.strategy=mrc" in report.read_text()


@pytest.mark.slow  # papermill: kernel start-up, then the tiny steps (~60 s)
def test_notebook_04_runs_with_tiny_parameters(tiny_root: Path, tiny_run: Path, tmp_path: Path, monkeypatch) -> None:
    import papermill as pm

    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the kernel inherits it: tiny models only lose by threads

    spec = spec_dict(tiny_root, run={"out_dir": str(tmp_path)})
    run_dir = create_run_dir(tmp_path, "nb")
    out = tmp_path / "executed.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks" / "04_sift_response_losses.ipynb"), str(out),
        parameters={"spec": spec, "run_dir": str(run_dir), "solutions": True, "compare": True,
                    "compare_settings": {"train.max_steps": 1, "data.limit.test": 2}},
        kernel_name="python3", cwd=str(ROOT / "notebooks"), progress_bar=False,
        execution_timeout=120,
    )
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["test"]["parser"]["sentences"] == 3
    # the notebook's steps are the library's: the same predictions and the same trained adapter
    assert _rows(run_dir) == _rows(tiny_run)
    adapter = "model/adapter_model.safetensors"
    assert (run_dir / adapter).read_bytes() == (tiny_run / adapter).read_bytes()
    text = out.read_text()
    assert "✓" in text and "carry loss" in text
    assert (run_dir / "strategies_f1.png").exists()
    for strategy in ("vanilla", "src", "mrc"):
        assert f"strategy={strategy}" in text
    assert len(list((run_dir / "strategies").glob("sift-tiny-strategies.strategy-*"))) == 3


def test_strategy_sweep_applies_the_settings_to_every_run(tiny_root: Path) -> None:
    from seqlab_spec.runner.sweep import expand

    spec = Spec.model_validate(spec_dict(tiny_root))
    sweep = sift.strategy_sweep(spec, {"train.max_steps": 1, "data.limit.test": 2, "method.k": 0})
    runs = expand(sweep)
    assert [s.name for s in runs] == [f"sift-tiny-strategies.strategy-{x}" for x in ("vanilla", "src", "mrc")]
    assert {(s.train.max_steps, s.data.limit.test, s.method.k) for s in runs} == {(1, 2, 0)}
    assert spec.train.max_steps == 2  # the notebook's own spec is untouched


@pytest.mark.parametrize("strategy", ["src", "mrc", "vanilla"])
def test_logits_only_where_loss_give_the_same_loss_and_gradients(strategy: str) -> None:
    from peft import LoraConfig, get_peft_model

    from seqlab_spec.sift.collator import SiftCollator, build_train_examples
    from seqlab_spec.sift.prompt import PromptConfig

    tok = bpe_tokenizer()
    cfg = PromptConfig(labels=("LOC", "MISC", "ORG", "PER"), end=tok.eos_token)
    examples = build_train_examples(CORPUS, 1, "random", cfg, strategy, tok, seed=1)  # type: ignore[arg-type]
    full = SiftCollator(tok.pad_token_id)(examples[:4])
    fast = SiftCollator(tok.pad_token_id, logits_where_loss=True)(examples[:4])
    kept = fast.get("logits_to_keep")
    width = full["input_ids"].shape[1]
    if strategy != "vanilla":  # the shortest rows' padding at least, and every non-response position
        assert kept is not None and 0 < len(kept) < width - 1
        assert int((fast["shift_labels"] != IGNORE).sum()) == int((full["labels"][:, 1:] != IGNORE).sum())
    model = tiny_causal_lm("llama", vocab_size=len(tok), pad_token_id=tok.pad_token_id,
                           eos_token_id=tok.eos_token_id, bos_token_id=tok.eos_token_id, max_position_embeddings=512)
    model = get_peft_model(model, LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"],
                                             task_type="CAUSAL_LM", init_lora_weights=False))
    losses, grads = [], []
    with single_thread():
        for batch in (full, fast):
            model.zero_grad()
            out = model(**batch)
            out.loss.backward()
            losses.append(out.loss.detach())
            grads.append([p.grad.clone() for p in model.parameters() if p.requires_grad])
    if kept is not None:
        assert out.logits.shape[1] == len(kept)  # the head ran only there
    assert torch.allclose(losses[0], losses[1], atol=1e-6)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(*grads, strict=True))


def test_an_encoder_is_refused_as_a_sift_model(tmp_path: Path) -> None:
    from transformers import BertConfig

    from seqlab_spec.models.generative import build_causal_lm
    from seqlab_spec.spec.model import ModelSpec

    BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64).save_pretrained(
        tmp_path
    )
    with pytest.raises(ModelError, match=r"is not a causal LM .* use smollm2-135m or a decoder hub id/path"):
        build_causal_lm(ModelSpec(name=str(tmp_path)))


def test_a_chat_template_run_saves_what_predict_needs(tiny_root: Path, tmp_path: Path) -> None:
    """With `chat_template: on` the prompts are conversations; the saved tokenizer keeps the template."""
    from transformers import AutoModelForCausalLM

    model_dir = tmp_path / "chat_model"
    AutoModelForCausalLM.from_pretrained(tiny_root / "model").save_pretrained(model_dir)
    bpe_tokenizer(chat=True).save_pretrained(model_dir)
    spec = Spec.model_validate(spec_dict(
        tiny_root, model={"name": str(model_dir)}, method={"chat_template": "on"}, eval={"splits": ["test"]}))
    run_dir = create_run_dir(tmp_path / "runs", spec.name)
    write_resolved_spec(run_dir, spec)
    with single_thread():
        sift.run(spec, run_dir)
        meta = json.loads((run_dir / "model" / "sift.json").read_text())
        rows = _rows(run_dir)
        model, tok, cfg, selector = sift.load_for_predict(run_dir / "model", spec)
        queries = [Sentence(r["tokens"], ["O"] * len(r["tokens"])) for r in rows]
        texts = sift.generate_split(spec, model, tok, cfg, selector, queries, 2).texts
        tags = sift.predict(run_dir / "model", spec, [r["tokens"] for r in rows], batch_size=2)
    assert meta["prompt"]["chat"] is True and cfg.chat and tok.chat_template
    assert texts == [r["generated"] for r in rows]
    assert tags == [r["pred"] for r in rows]


class _Stop(Exception):
    pass


def test_an_interrupted_sift_training_resumes_to_the_uninterrupted_weights(tiny_root: Path, tmp_path: Path) -> None:
    """Stopped after step 3 (last checkpoint: step 2), trained again in the same folder: it runs steps 3-4
    only, and the LoRA weights and the log equal those of one uninterrupted training (same seed, CPU, exact)."""
    import transformers
    from transformers import TrainerCallback

    spec = Spec.model_validate(spec_dict(tiny_root, train={"max_steps": 4, "save_every_steps": 2, "batch_size": 2}))
    data = sift.prepare_data(spec)

    class Steps(TrainerCallback):
        def __init__(self, stop_at: int | None = None) -> None:
            self.stop_at, self.done = stop_at, []

        def on_step_end(self, args, state, control, **kwargs):
            self.done.append(state.global_step)
            if state.global_step == self.stop_at:
                raise _Stop

    def train(run_dir: Path, steps: Steps):
        real = transformers.Trainer.__init__

        def init(self, *a, **k):
            real(self, *a, **k)
            self.add_callback(steps)

        model, tok = sift.build_model(spec)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(transformers.Trainer, "__init__", init)
            return sift.fit(spec, model, tok, data, run_dir)

    def lora(trainer) -> dict:
        return {k: v for k, v in trainer.model.state_dict().items() if "lora_" in k}

    def log(trainer) -> list[dict]:
        return without_timings(trainer.state.log_history, "train_loss")

    with single_thread():
        whole = train(tmp_path / "whole", Steps())
        with pytest.raises(_Stop):
            train(tmp_path / "cut", Steps(stop_at=3))
        assert [p.name for p in (tmp_path / "cut" / "checkpoints").iterdir()] == ["checkpoint-2"]
        again = Steps()
        resumed = train(tmp_path / "cut", again)
    assert again.done == [3, 4]  # continued, not started over
    assert not (tmp_path / "cut" / "checkpoints").exists()
    a, b = lora(whole), lora(resumed)
    assert a and a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert log(resumed) == log(whole)


def test_a_tokenizer_without_eos_is_refused_before_any_run_folder(tmp_path: Path) -> None:
    """sift ends each response with the eos token: a model whose tokenizer has none (the tiny decoder saved
    with the default WordPiece tokenizer) stops in preflight, with the fix, and leaves no run folder."""
    from conftest import ROOT, TINY

    from seqlab_spec.models.tiny import save_tiny_decoder
    from seqlab_spec.runner.execute import run_spec
    from seqlab_spec.spec.load import load_spec

    model = save_tiny_decoder(tmp_path / "tiny-wordpiece")
    spec = load_spec(ROOT / "specs" / "quickstart.yaml", [*TINY, "method={name: sift, k: 1}", f"model.name={model}"])
    with pytest.raises(ModelError) as e:
        run_spec(spec, tmp_path / "runs", use_notebook=False)
    assert str(e.value) == (
        f"tokenizer {str(model)!r} has no eos token, which sift uses to end responses; use a model whose "
        "tokenizer has one (for a tiny local model: save_tiny_decoder(path, tokenizer='smollm2-135m'))"
    )
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
