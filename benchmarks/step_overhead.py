"""Per-step overhead of the training pipeline: on a tiny model, where a step is almost all overhead, the
library's step time (`pipelines.tagger.build_model` + `train.build_trainer`, the objects `seqlab-spec run`
trains) against a minimal hand-written loop with the same model, batches, precision and optimizer.

- `hand`: the pipeline's batches (its length-grouped sampler, same seed), padded with torch, forward (under
  the pipeline's autocast), backward, gradient clipping at 1.0 and `torch.optim.AdamW(fused=True)` step (the
  Trainer's optimizer step), zero_grad: nothing else (no scheduler, callbacks, logging or DataLoader).
- `pipeline`: the library's Trainer at the spec's settings (length-grouped batches, its collator, callbacks,
  logging every `train.logging_steps`, linear schedule).
- ablations (`--ablations`): `pipeline+unfused` (`optim=adamw_torch`; the Trainer's default is the fused
  `adamw_torch_fused`, which `hand` uses too), `pipeline+workers1`
  (`train.dataloader_workers=1`), `pipeline+compile` (`train.torch_compile=true`; `--compile`, slow to build).

Step time = time between the ends of consecutive optimizer steps after `--warmup` steps, so data loading,
collation, the optimizer and every callback count. The figure is this process's CPU time per step
(`time.process_time`, with `--threads 1`): on a shared, oversubscribed machine wall time mostly measures the
neighbours, CPU time the work this process did (a dataloader worker's CPU time is not in it: judge the workers
arm by wall time). Arms alternate (ABBA) within one process; the
figure is the median per-round ratio pipeline/hand. `--profile` also writes the pipeline's torch.profiler
table (top operators by self CPU time) next to the JSON.

    .venv/bin/python benchmarks/step_overhead.py --threads 1 --rounds 4 --steps 60
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
    p.add_argument("--steps", type=int, default=60, help="timed optimizer steps per arm and round")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first (allocator, kernel choice)")
    p.add_argument("--models", nargs="+", default=["encoder", "decoder"], choices=["encoder", "decoder"])
    p.add_argument("--ablations", action="store_true", help="also the fused-AdamW and dataloader-worker arms")
    p.add_argument("--compile", action="store_true", help="also a torch.compile arm (minutes to build on a CPU)")
    p.add_argument("--profile", action="store_true", help="write the pipeline's torch.profiler table")
    return common.parse(p, argv, __file__)


def tiny_spec(kind: str, tmp: Path, n_train: int, extra: list[str] = ()):
    """The CPU spec of the method on a tiny random model: every step is overhead, not arithmetic."""
    from seqlab_spec.spec.load import load_spec

    if kind == "encoder":
        sets = [f"model.name={save_tiny_encoder(tmp / 'tiny-bert')}", "train.batch_size=32"]
        name = "encoder_conll03_cpu.yaml"
    else:
        sets = [f"model.name={save_tiny_decoder(tmp / 'tiny-llama')}", "model.peft.r=4", "train.batch_size=16"]
        sets.append("method.unmask=0110")
        name = "unmask_conll03_cpu.yaml"
    sets += [f"data.limit.train={n_train}", "train.eval_every=never", "train.select_best=false", *extra]
    return load_spec(common.spec_path(name), sets)


class StepClock:
    """Trainer callback: the time at every optimizer step's end."""

    def __init__(self) -> None:
        from transformers import TrainerCallback

        clock = self
        self.ends: list[float] = []
        self.cpu_ends: list[float] = []

        class CB(TrainerCallback):
            def on_step_end(self, args, state, control, **kw):
                clock.ends.append(time.perf_counter())
                clock.cpu_ends.append(time.process_time())

        self.callback = CB()


def per_step(ends: list[float], warmup: int) -> float:
    """Mean seconds between step ends after `warmup` steps."""
    timed = ends[warmup - 1 :]
    return (timed[-1] - timed[0]) / (len(timed) - 1)


def pipeline_arm(spec, data, out: Path, steps: int, warmup: int, optim: str | None = None, profile: list | None = None):
    from seqlab_spec.pipelines.tagger import build_model
    from seqlab_spec.training.train import build_trainer, tagging_features

    spec = spec.model_copy(update={"train": spec.train.model_copy(update={"max_steps": warmup + steps})})

    def arm() -> dict[str, float]:
        model, tok = build_model(spec, data.labels)
        feats = tagging_features(data.splits["train"], tok, data.labels, spec.train.max_length)
        trainer = build_trainer(
            spec, model, tok, feats, None, data.labels, Path(tempfile.mkdtemp(dir=out)), resumable=True
        )
        if optim:
            trainer.args.optim = optim
        clock = StepClock()
        trainer.add_callback(clock.callback)
        counter = common.TokenCounter(model)
        if profile is not None:
            import torch

            with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
                trainer.train()
            profile.append(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=30))
        else:
            trainer.train()
        counter.remove()
        return {
            "step_s": per_step(clock.ends, warmup),
            "step_cpu_s": per_step(clock.cpu_ends, warmup),
            "padded_tokens_per_step": counter.padded / counter.forwards,
        }

    return arm


def hand_arm(spec, data, steps: int, warmup: int):
    """The minimal loop: same model builder, features, batch size, autocast and AdamW (lr, no decay)."""
    import contextlib

    import torch
    from transformers.trainer_pt_utils import LengthGroupedSampler

    from seqlab_spec.pipelines.tagger import build_model
    from seqlab_spec.training.precision import autocast_dtype, resolve_precision
    from seqlab_spec.training.train import tagging_features

    t = spec.train
    dtype = autocast_dtype(resolve_precision(t.precision))

    def collate(rows: list[dict], pad_id: int) -> dict[str, torch.Tensor]:
        width = -(-max(r["length"] for r in rows) // 8) * 8  # the pipeline's pad multiple

        def pad(key: str, fill: int) -> torch.Tensor:
            return torch.tensor([r[key] + [fill] * (width - r["length"]) for r in rows])

        return {
            "input_ids": pad("input_ids", pad_id),
            "attention_mask": pad("attention_mask", 0),
            "labels": pad("labels", -100),
        }

    def arm() -> dict[str, float]:
        model, tok = build_model(spec, data.labels)
        model.train()
        feats = tagging_features(data.splits["train"], tok, data.labels, t.max_length)
        # the pipeline's batches: its length-grouped sampler, seeded as train.EpochSeededOrder seeds epoch 0
        sampler = LengthGroupedSampler(
            t.batch_size,
            lengths=[f["length"] for f in feats],
            generator=torch.Generator().manual_seed(t.seed * 1_000_003),
        )
        order = list(sampler)
        batches = [order[i : i + t.batch_size] for i in range(0, len(order), t.batch_size)]
        params = [p for p in model.parameters() if p.requires_grad]
        # the Trainer's default optimizer (transformers 5: optim=adamw_torch_fused, on CPU too)
        optimizer = torch.optim.AdamW(params, lr=t.lr, weight_decay=t.weight_decay, fused=True)
        pad = tok.pad_token_id if tok.pad_token_id is not None else 0
        ends, cpu_ends, padded = [], [], 0
        for step in range(warmup + steps):
            batch = collate([feats[i] for i in batches[step % len(batches)]], pad)
            padded += batch["input_ids"].numel()
            ctx = torch.autocast("cpu", dtype=dtype) if dtype is not None else contextlib.nullcontext()
            with ctx:
                loss = model(**batch).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)  # the Trainer's max_grad_norm: part of its optimizer step
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            ends.append(time.perf_counter())
            cpu_ends.append(time.process_time())
        return {
            "step_s": per_step(ends, warmup),
            "step_cpu_s": per_step(cpu_ends, warmup),
            "padded_tokens_per_step": padded / (warmup + steps),
        }

    return arm


def bench(kind: str, args, tmp: Path, profiles: dict[str, str]) -> dict[str, Any]:
    from seqlab_spec.pipelines.common import prepare_data

    steps, warmup = (6, 2) if args.tiny else (args.steps, args.warmup)
    batch = 32 if kind == "encoder" else 16
    n_train = (warmup + steps + 2) * batch  # no epoch end (and its checkpoint) inside the timed steps
    spec = tiny_spec(kind, tmp, n_train)
    data = prepare_data(spec)
    arms = {"hand": hand_arm(spec, data, steps, warmup), "pipeline": pipeline_arm(spec, data, tmp, steps, warmup)}
    if args.ablations:
        arms["pipeline+unfused"] = pipeline_arm(spec, data, tmp, steps, warmup, optim="adamw_torch")
        workers = tiny_spec(kind, tmp, n_train, ["train.dataloader_workers=1"])
        arms["pipeline+workers1"] = pipeline_arm(workers, data, tmp, steps, warmup)
    if args.compile:
        compiled = tiny_spec(kind, tmp, n_train, ["train.torch_compile=true"])
        arms["pipeline+compile"] = pipeline_arm(compiled, data, tmp, steps, warmup)
    print(f"{kind}: tiny model, batch {spec.train.batch_size}, {warmup}+{steps} steps per arm", flush=True)
    samples = common.alternate(arms, args.rounds or (1 if args.tiny else 4))
    res: dict[str, Any] = {
        "model": "tiny random " + ("BERT (2 x 32)" if kind == "encoder" else "Llama (4 x 32), LoRA r4"),
        "spec": "encoder_conll03_cpu.yaml" if kind == "encoder" else "unmask_conll03_cpu.yaml",
        "batch_size": spec.train.batch_size,
        "steps": steps,
        "warmup": warmup,
        "arms": {
            name: {
                "step_ms_noisy": common.summary([1000 * r["step_s"] for r in rows]),
                "step_cpu_ms": common.summary([1000 * r["step_cpu_s"] for r in rows]),
                "padded_tokens_per_step": common.summary([r["padded_tokens_per_step"] for r in rows]),
            }
            for name, rows in samples.items()
        },
        "ratios": {
            f"{name}/hand {what}": common.paired_ratio(samples, name, "hand", key)
            for name in arms
            if name != "hand"
            for what, key in (("step CPU time", "step_cpu_s"), ("step wall time", "step_s"))
        },
    }
    if args.profile:
        table: list[str] = []
        pipeline_arm(spec, data, tmp, steps, warmup, profile=table)()
        profiles[kind] = table[0]
    return res


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    common.setup_env(args)
    tmp = Path(tempfile.mkdtemp(prefix="bench-step-"))
    profiles: dict[str, str] = {}
    results = {kind: bench(kind, args, tmp, profiles) for kind in args.models}
    path = common.write_result("step_overhead", args, results, [__doc__.split("\n\n")[1]])
    if profiles:
        text = "\n\n".join(
            f"== {kind} pipeline: torch.profiler, top operators by self CPU time\n{t}" for kind, t in profiles.items()
        )
        path.with_suffix(".profile.txt").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
