"""Unmask on CoNLL-2003 with SmolLM2-135M: dev/test F1 per layer-group pattern next to the MiniLM-L6 encoder on
the same subset, and the step-time cost of a pattern relative to causal 0000.

Two parts:
1. Step time, one process, one model: the same batch trained (forward, backward, optimizer step) under each
   pattern in turn, rounds alternating (ABC, CBA, ...); per round the ratio to 0000. Removing the mask should
   cost nothing measurable (a bidirectional layer gets a padding mask instead of the causal flag).
2. F1, one library run per pattern (`seqlab_spec.runner.execute.run_one`, the `--no-notebook` path) with the same seed,
   data, steps and settings; then the encoder baseline on the same sentences. Expensive: size it with
   --train / --epochs. The JSON is rewritten after every run, so a cut-off job keeps what it finished.

    .venv/bin/python benchmarks/unmask_patterns.py --train 600 --epochs 2 --patterns 0000 1111 0110
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

from seqlab_spec.models.tiny import save_tiny_decoder, save_tiny_encoder  # noqa: E402


def _args(argv: list[str] | None = None):
    p = common.parser(__doc__.split("\n\n")[0])
    p.add_argument("--train", type=int, default=600, help="training sentences (the first N of CoNLL-2003 train)")
    p.add_argument("--dev", type=int, default=300, help="dev sentences evaluated")
    p.add_argument("--test", type=int, default=300, help="test sentences evaluated")
    p.add_argument("--epochs", type=float, default=2.0)
    p.add_argument("--patterns", nargs="+", default=["0000", "1111", "0110"])
    p.add_argument("--encoder-lr", type=float, default=1e-4, help="MiniLM-L6 learning rate (decoder: the spec's)")
    p.add_argument("--steps-per-sample", type=int, default=1, help="training steps timed per pattern per round")
    p.add_argument("--skip-f1", action="store_true", help="only the step-time part (keeps earlier F1 results)")
    p.add_argument("--skip-step-time", action="store_true", help="only the F1 part (keeps earlier step times)")
    return common.parse(p, argv, __file__)


def decoder_overrides(args, model_dir: Path | None) -> list[str]:
    sets = [
        *common.conll_limits(args.train, args.dev, args.test),
        f"train.epochs={args.epochs}",
        "run.save_model=false",
        "train.logging_steps=10",
    ]
    if model_dir is not None:
        sets += [f"model.name={model_dir}", "model.peft.r=4", "train.max_steps=2", "train.batch_size=8"]
    return sets


def encoder_overrides(args, model_dir: Path | None, decoder_spec) -> list[str]:
    """The encoder on the decoder runs' sentences, batch size, epochs, length and seed; its own lr."""
    t = decoder_spec.train
    sets = [
        *common.conll_limits(args.train, args.dev, args.test),
        f"train.epochs={args.epochs}",
        f"train.batch_size={t.batch_size}",
        f"train.max_length={t.max_length}",
        f"train.seed={t.seed}",
        f"train.lr={args.encoder_lr}",
        f"train.max_steps={t.max_steps}",
        "train.eval_every=never",
        "train.select_best=false",
        "run.save_model=false",
    ]
    if model_dir is not None:
        sets.append(f"model.name={model_dir}")
    return sets


# ------------------------------------------------------------------------------------------- step time


def step_time(args, spec, rounds: int) -> dict[str, Any]:
    """Per pattern: seconds for `steps_per_sample` training steps on one fixed batch, alternating patterns."""

    import torch
    from transformers import DataCollatorForTokenClassification

    from seqlab_spec.pipelines.common import prepare_data
    from seqlab_spec.pipelines.tagger import build_model
    from seqlab_spec.training.precision import autocast_dtype, resolve_precision
    from seqlab_spec.training.train import tagging_features

    data = prepare_data(spec)
    model, tokenizer = build_model(spec, data.labels)
    model.train()
    bs = spec.train.batch_size
    feats = tagging_features(data.splits["train"][:bs], tokenizer, data.labels, spec.train.max_length)
    batch = DataCollatorForTokenClassification(tokenizer, pad_to_multiple_of=8)(
        [{k: v for k, v in f.items() if k != "length"} for f in feats]
    )
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    dtype = autocast_dtype(resolve_precision(spec.train.precision))

    def one(pattern: str):
        def arm() -> dict[str, float]:
            model.set_pattern(pattern)
            t0 = time.perf_counter()
            for _ in range(args.steps_per_sample):
                common.optimizer_step(model, batch, opt, dtype)
            return {"seconds": time.perf_counter() - t0}

        return arm

    one(args.patterns[0])()  # warm-up: kernel selection, allocator
    samples = common.alternate({p: one(p) for p in args.patterns}, rounds)
    base = args.patterns[0]
    return {
        "batch": {"sentences": bs, "padded_length": int(batch["input_ids"].shape[1])},
        "steps_per_sample": args.steps_per_sample,
        "precision": resolve_precision(spec.train.precision),
        "seconds_per_step_noisy": {
            p: common.summary([s["seconds"] / args.steps_per_sample for s in samples[p]]) for p in args.patterns
        },
        "ratio_to_" + base: {p: common.paired_ratio(samples, p, base, "seconds") for p in args.patterns[1:]},
    }


# ------------------------------------------------------------------------------------------- F1


def one_run(spec, out: Path) -> dict[str, Any]:
    from seqlab_spec.evaluation.scores import headline_f1
    from seqlab_spec.runner.execute import run_one
    from seqlab_spec.runner.rundir import read_json

    t0 = time.time()
    run_dir = run_one(spec, out, use_notebook=False)
    metrics = read_json(run_dir / "metrics.json")
    log = [r for r in (read_json(run_dir / "run.json").get("attempts") or [])]
    return {
        "f1_reading": spec.eval.mode,
        "dev_f1": headline_f1(metrics, "dev"),
        "test_f1": headline_f1(metrics, "test"),
        "wall_seconds_noisy": round(time.time() - t0, 1),
        "attempts": len(log),
    }


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    common.setup_env(args)
    from seqlab_spec.spec.load import load_spec

    if args.tiny:
        args.train, args.dev, args.test = 32, 8, 8
    tmp = Path(tempfile.mkdtemp(prefix="bench-unmask-"))
    dec_dir = save_tiny_decoder(tmp / "tiny-llama") if args.tiny else None
    enc_dir = save_tiny_encoder(tmp / "tiny-bert") if args.tiny else None
    rounds = args.rounds or (2 if args.tiny else 4)
    base_spec_path = common.spec_path("unmask_conll03_cpu.yaml")
    sets = decoder_overrides(args, dec_dir)
    spec0 = load_spec(base_spec_path, [*sets, f"method.unmask={args.patterns[0]}"])
    results: dict[str, Any] = {
        "setting": {
            "data": "CoNLL-2003 (first N sentences of each split)",
            "train_sentences": args.train,
            "dev_sentences": args.dev,
            "test_sentences": args.test,
            "epochs": args.epochs,
            "decoder": f"{spec0.model.name} + LoRA r={spec0.model.peft.r} {spec0.model.peft.target_modules}",
            "decoder_lr": spec0.train.lr,
            "encoder_lr": args.encoder_lr,
            "batch_size": spec0.train.batch_size,
            "max_length": spec0.train.max_length,
            "seed": spec0.train.seed,
            "spec": "specs/unmask_conll03_cpu.yaml",
            "overrides": sets,
        },
        "patterns": args.patterns,
    }
    name = "unmask_patterns"
    earlier = _earlier(args, name, results["setting"])
    results["commands"] = earlier.get("commands", {})
    if args.skip_step_time and "step_time" in earlier:
        results["step_time"] = earlier["step_time"]
    elif not args.skip_step_time:
        print("step time (alternating patterns, one process)", flush=True)
        results["step_time"] = step_time(args, spec0, rounds)
        results["commands"]["step_time"] = args.command
        common.write_result(name, args, results)
    if args.skip_f1:
        if "f1" in earlier:
            results["f1"] = earlier["f1"]
        common.write_result(name, args, results)
        return 0
    results["commands"]["f1"] = args.command
    results["f1"] = {}
    for p in args.patterns:
        print(f"F1 run: pattern {p}", flush=True)
        spec = load_spec(base_spec_path, [*sets, f"method.unmask={p}"])
        results["f1"][f"smollm2 {p}"] = _safe(one_run, spec, tmp / "runs")
        common.write_result(name, args, results)
    print("F1 run: encoder baseline", flush=True)
    enc = load_spec(common.spec_path("encoder_conll03_cpu.yaml"), encoder_overrides(args, enc_dir, spec0))
    results["f1"]["minilm-l6 encoder"] = _safe(one_run, enc, tmp / "runs")
    common.write_result(name, args, results)
    return 0


def _earlier(args, name: str, setting: dict[str, Any]) -> dict[str, Any]:
    """The results of an earlier run with the same setting (the part this run skips is kept from it)."""
    import json

    path = Path(args.out) / f"{name}{'.tiny' if args.tiny else ''}.json"
    if not path.exists():
        return {}
    doc = json.loads(path.read_text())
    old = doc.get("results", {})
    if old.get("setting") != setting:
        return {}
    old.setdefault("commands", {part: doc.get("command") for part in ("step_time", "f1") if part in old})
    return old


def _safe(fn, *a) -> dict[str, Any]:
    """A failed run is recorded with its error instead of losing the runs before it."""
    try:
        return fn(*a)
    except Exception as e:  # noqa: BLE001 - a benchmark records the failure and carries on
        return {"error": f"{type(e).__name__}: {e}"[:500]}


if __name__ == "__main__":
    raise SystemExit(main())
