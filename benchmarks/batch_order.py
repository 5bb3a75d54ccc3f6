"""Batch order vs speed and F1: random, length-grouped (the Trainer's group_by_length) and bucketed (length-sorted
pools, batches shuffled: `train.batch_order`), at equal optimizer steps, on CoNLL-2003 and bundled LitBank events.

Every arm is the library's path (`pipelines.tagger.build_model` + `train.build_trainer`, the spec's precision and
collator) with MiniLM-L6, no dev pass, a linear schedule to 0 over the largest of `--steps`; test F1 is taken at
every budget in `--steps` during that one run (so the smaller budget is "the first N steps of the same run", equal
for every arm). The arms of one (dataset, seed) run next to each other, in rotated order. Test F1 is seqeval's strict
IOB2 on the raw predicted tags (`mode="strict", scheme=IOB2`, no repair of ill-formed sequences) over the first
`--test` test sentences. Train seconds: wall time of `trainer.train()` minus the test passes; padded/real tokens are
counted by a forward pre-hook on training forwards.

    .venv/bin/python benchmarks/batch_order.py --threads 1 --steps 30 60 --seeds 1 2 3 --test 200 --batch 16 \
        --lr 3e-4 --datasets conll03    # and --datasets litbank, in a second process
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

ORDERS = ("random", "length", "bucketed")
LITBANK = [f"data.{s}=pkg:litbank_events/{s}.bio.tsv" for s in ("train", "dev", "test")]
DATASETS = {  # name -> (spec, extra overrides)
    "conll03": ("encoder_conll03_cpu.yaml", ["data.limit.train=8000"]),
    "litbank": ("encoder_wnut17_cpu.yaml", [*LITBANK, "task.type=trigger"]),  # same column layout as WNUT-17
}


def _args(argv: list[str] | None = None):
    p = common.parser(__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, nargs="+", default=[30, 60], help="step budgets (test F1 at each)")
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--test", type=int, default=200, help="test sentences scored (the first N)")
    p.add_argument("--batch", type=int, default=16, help="sentences per batch (train.batch_size)")
    p.add_argument("--lr", type=float, default=3e-4, help="peak learning rate (train.lr), linear decay to 0")
    p.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    return common.parse(p, argv, __file__)


def strict_f1(gold: list[list[str]], pred: list[list[str]]) -> float:
    from seqeval.metrics import f1_score
    from seqeval.scheme import IOB2

    return float(f1_score(gold, pred, mode="strict", scheme=IOB2, zero_division=0))


class TestAt(TrainerCallback):
    """Strict test F1 after the given optimizer steps (the model goes back to training mode afterwards)."""

    def __init__(self, budgets, score) -> None:
        self.budgets = set(budgets)
        self.score = score
        self.f1: dict[int, float] = {}
        self.seconds = 0.0

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step in self.budgets:
            t0 = time.perf_counter()
            self.f1[state.global_step] = self.score(model)
            model.train()
            self.seconds += time.perf_counter() - t0


def run_arm(spec, data, feats_cache: dict, out: Path, budgets: list[int]) -> dict[str, Any]:
    """Train one arm from a fresh model; returns train seconds, tokens and strict test F1 at each budget."""
    from seqlab_spec.evaluation.predict import predict_tags
    from seqlab_spec.pipelines.tagger import build_model
    from seqlab_spec.training.precision import autocast_dtype, resolve_precision
    from seqlab_spec.training.train import build_trainer, tagging_features

    model, tok = build_model(spec, data.labels)
    if "train" not in feats_cache:
        feats_cache["train"] = tagging_features(data.splits["train"], tok, data.labels, spec.train.max_length)
    test = data.splits["test"]
    dtype = autocast_dtype(resolve_precision(spec.train.precision))

    def score(m) -> float:
        pred = predict_tags(
            m, tok, [s.tokens for s in test], data.labels, spec.train.max_length, spec.eval.batch_size, autocast=dtype
        )
        return strict_f1([s.tags for s in test], pred.tags)

    trainer = build_trainer(spec, model, tok, feats_cache["train"], None, data.labels, out)
    tests = TestAt(budgets, score)
    trainer.add_callback(tests)
    counter = common.TokenCounter(model)
    t0 = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - t0 - tests.seconds
    counter.remove()
    return {
        "train_s": seconds,
        "steps": trainer.state.global_step,
        "real_tokens": counter.real,
        "padded_tokens": counter.padded,
        **{f"test_f1_strict@{b}": tests.f1[b] for b in budgets},
    }


def _stats(values: list[float]) -> dict[str, Any]:
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "n": len(values),
        "values": [round(v, 6) for v in values],
    }


def bench_dataset(name: str, args, save) -> dict[str, Any]:
    from seqlab_spec.pipelines.common import prepare_data
    from seqlab_spec.spec.load import load_spec

    spec_file, extra = DATASETS[name]
    sets = [
        *extra,
        f"data.limit.test={args.test}",
        f"train.batch_size={args.batch}",
        f"train.lr={args.lr}",
        "train.eval_every=never",
        "train.select_best=false",
    ]
    if args.tiny:
        from seqlab_spec.models.tiny import save_tiny_encoder

        tiny = save_tiny_encoder(Path(tempfile.mkdtemp()) / "enc")
        sets = [*sets, f"model.name={tiny}", "data.limit.train=64", "data.limit.test=16", "train.batch_size=8"]
    base = load_spec(common.spec_path(spec_file), sets)
    data = prepare_data(base)
    budgets = sorted(args.steps)
    runs: dict[str, list[dict[str, Any]]] = {o: [] for o in ORDERS}
    feats: dict = {}
    info = {
        "spec": spec_file,
        "overrides": sets,
        "train_sentences": len(data.splits["train"]),
        "test_sentences": len(data.splits["test"]),
        "batch_size": base.train.batch_size,
        "lr": base.train.lr,
        "precision": base.train.precision,
        "budgets": budgets,
        "seeds_planned": list(args.seeds),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for k, seed in enumerate(args.seeds):
            for o in ORDERS[k % 3 :] + ORDERS[: k % 3]:  # rotated: no arm always first
                spec = load_spec(
                    common.spec_path(spec_file),
                    [*sets, f"train.max_steps={budgets[-1]}", f"train.seed={seed}", f"train.batch_order={o}"],
                )
                row = run_arm(spec, data, feats, Path(tmp) / f"{name}-{seed}-{o}", budgets)
                row["seed"] = seed
                runs[o].append(row)
                print(f"  {name} seed {seed} {o}: " + common._fmt(row), flush=True)
            save({**info, "runs": runs, "summary": summarise(runs, budgets)})  # after every seed: partial results
    return {**info, "runs": runs, "summary": summarise(runs, budgets)}


def summarise(runs: dict[str, list[dict[str, Any]]], budgets: list[int]) -> dict[str, Any]:
    """Per order, over the seeds every order has finished: F1 at each budget, time, padding."""
    n = min(len(rows) for rows in runs.values())
    summary: dict[str, Any] = {}
    for o, all_rows in runs.items():
        rows, base = all_rows[:n], runs["random"][:n]
        if not rows:
            continue
        summary[o] = {
            **{f"test_f1_strict@{b}": _stats([r[f"test_f1_strict@{b}"] for r in rows]) for b in budgets},
            "train_s": _stats([r["train_s"] for r in rows]),
            "padded_per_real": statistics.fmean(r["padded_tokens"] / r["real_tokens"] for r in rows),
            # per seed: this arm's time / random's, measured next to each other
            "time_vs_random": _stats([r["train_s"] / b["train_s"] for r, b in zip(rows, base, strict=True)]),
        }
    return summary


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    common.setup_env(args)
    if args.tiny:
        args.steps, args.seeds = [1, 2], [1, 2]
    # one dataset per process (two processes use two cores): benchmarks/out/batch_order_<dataset>.json
    name = "batch_order" if set(args.datasets) == set(DATASETS) else "batch_order_" + "_".join(args.datasets)
    datasets: dict[str, Any] = {}

    def save(partial: dict[str, Any] | None = None, dataset: str | None = None) -> None:
        if partial is not None:
            datasets[dataset] = partial
        common.write_result(name, args, {"datasets": datasets, "orders": list(ORDERS)}, notes=NOTES)

    for d in args.datasets:
        datasets[d] = bench_dataset(d, args, lambda partial, d=d: save(partial, d))
    save()
    return 0


NOTES = [
    "F1: seqeval f1_score(mode='strict', scheme=IOB2) on the raw predicted tags of the first --test "
    "test sentences; mean and sample std over seeds.",
    "time_vs_random: per seed, the arm's training seconds over the random arm's, run next to it.",
    "The smaller budget is the first N steps of the larger budget's run (linear decay to 0 at the larger).",
    "padded_per_real: tokens the model computed (padding included) per real token.",
]


if __name__ == "__main__":
    raise SystemExit(main())
