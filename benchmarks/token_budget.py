"""Token-budget batches (`train.batch_tokens`) against the thesis batch of 16 sentences: real tokens/s of
training and test F1 at equal epochs, each arm a whole run of the library's pipeline on the same spec.

The spec is specs/unmask_conll03_cpu.yaml (SmolLM2-135M + LoRA r16 all-linear, pattern 0110) cut down to
`--train` sentences x `--epochs`, tested on the first `--test` test sentences. Arms alternate (ABBA) within one
process, one run per arm, seed and round; training is timed around `Trainer.train` and its real (attention
mask) tokens are counted by a forward pre-hook. The learning rate is the spec's, per step, in both arms.

    .venv/bin/python benchmarks/token_budget.py --threads 1 --train 240 --epochs 2 --test 200 --budgets 400
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402


def _args(argv: list[str] | None = None):
    p = common.parser(__doc__.split("\n\n")[0])
    p.add_argument("--train", type=int, default=240, help="training sentences (first N of train.txt)")
    p.add_argument("--epochs", type=float, default=2)
    p.add_argument("--test", type=int, default=200, help="test sentences scored")
    p.add_argument("--budgets", type=int, nargs="+", default=[400], help="train.batch_tokens of each budget arm")
    p.add_argument("--seeds", type=int, nargs="+", default=[42], help="train.seed values (each a run per arm)")
    p.add_argument("--pattern", default="0110", help="method.unmask")
    return common.parse(p, argv, __file__)


def run_arm(spec_file: str, sets: list[str], tmp: Path):
    """One run of the library's pipeline: training seconds, real tokens, steps and test F1."""

    def arm() -> dict[str, float]:
        from seqlab_spec.evaluation.scores import headline, headline_f1
        from seqlab_spec.pipelines import for_method
        from seqlab_spec.spec.load import load_spec

        spec = load_spec(common.spec_path(spec_file), sets)
        sink: dict[str, Any] = {}
        with common.measured_training(sink):
            metrics = for_method(spec.method.name).run(spec, Path(tempfile.mkdtemp(dir=tmp)))
        return {
            "seconds": sink["seconds"],
            "real_tokens": sink["real_tokens"],
            "padded_tokens": sink["padded_tokens"],
            "steps": sink["steps"],
            "tokens_per_s": sink["real_tokens"] / sink["seconds"],
            "f1_reading": headline(metrics["test"])[0],
            "test_f1": headline_f1(metrics, "test"),
        }

    return arm


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    common.setup_env(args)
    tmp = Path(tempfile.mkdtemp(prefix="bench-budget-"))
    spec_file = "unmask_conll03_cpu.yaml"
    base = [
        f"method.unmask={args.pattern}",
        f"data.limit.train={args.train}",
        f"data.limit.test={args.test}",
        f"train.epochs={args.epochs}",
        "eval.splits=[test]",
        "run.save_model=false",
        "train.logging_steps=1000",
    ]
    if args.tiny:
        from seqlab_spec.models.tiny import save_tiny_decoder

        base += [f"model.name={save_tiny_decoder(tmp / 'tiny-llama')}", "model.peft.r=4"]
        base[1:3] = ["data.limit.train=24", "data.limit.test=8"]
    arms: dict[str, Any] = {}
    for seed in args.seeds:
        arms[f"batch 16 sentences, seed {seed}"] = run_arm(spec_file, [*base, f"train.seed={seed}"], tmp)
        for b in args.budgets:
            sets = [*base, f"train.seed={seed}", f"train.batch_tokens={b}"]
            arms[f"batch_tokens {b}, seed {seed}"] = run_arm(spec_file, sets, tmp)
    samples = common.alternate(arms, args.rounds or 1)
    results: dict[str, Any] = {
        "spec": spec_file,
        "overrides": base,
        "seeds": args.seeds,
        "budgets": args.budgets,
        "arms": {},
        "ratios": {},
    }
    for name, rows in samples.items():
        results["arms"][name] = {
            "steps": rows[0]["steps"],
            "real_tokens": rows[0]["real_tokens"],
            "pad_fraction": 1 - rows[0]["real_tokens"] / rows[0]["padded_tokens"],
            "tokens_per_s_noisy": common.summary([r["tokens_per_s"] for r in rows]),
            "test_f1": common.summary([r["test_f1"] for r in rows]),
        }
    for seed in args.seeds:
        for b in args.budgets:
            num, den = f"batch_tokens {b}, seed {seed}", f"batch 16 sentences, seed {seed}"
            results["ratios"][f"{num} / {den} tokens_per_s"] = common.paired_ratio(samples, num, den, "tokens_per_s")
    common.write_result("token_budget", args, results, [__doc__.split("\n\n")[1]])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
