"""GPU paths: each method's training on CUDA (bf16, or fp16 where the GPU lacks bf16; gradient checkpointing;
QLoRA 4-bit where bitsandbytes is installed): training throughput (non-pad tokens/s) and MFU against this GPU's
matmul peak measured in the same run. Without CUDA it prints why and exits 0 (nothing written).

Every setting runs the library's own pipeline (`pipelines.for_method(...).run`, the `--no-notebook` path) on a
spec from specs/ with a small step count; the Trainer's `train` is wrapped to time it and count tokens, so any
method whose pipeline trains with the Trainer is measured the same way. Settings alternate across rounds.

    .venv/bin/python benchmarks/gpu_paths.py --steps 40 --rounds 2
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

SKIP_MESSAGE = "gpu_paths: no CUDA device here; run this on a machine with a GPU (nothing measured, nothing written)"


def _args(argv: list[str] | None = None):
    p = common.parser(__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=40, help="train.max_steps of each setting")
    p.add_argument("--train", type=int, default=4000, help="training sentences available to each setting")
    return common.parse(p, argv, __file__)


def settings(steps: int, n_train: int, has_bnb: bool) -> dict[str, tuple[str, list[str]]]:
    """name -> (spec file, overrides). Only what this machine can run (QLoRA needs bitsandbytes)."""
    base = [
        f"train.max_steps={steps}",
        f"data.limit.train={n_train}",
        "data.limit.dev=64",
        "data.limit.test=64",
        "train.eval_every=never",
        "train.select_best=false",
        "run.save_model=false",
        "train.logging_steps=1000",
        "train.precision=auto",  # bf16 where the GPU has it, else fp16
    ]
    out = {
        "encoder minilm-l6 full": ("encoder_conll03_cpu.yaml", base),
        "encoder minilm-l6 full + grad ckpt": (
            "encoder_conll03_cpu.yaml",
            [*base, "train.gradient_checkpointing=true"],
        ),
        "unmask smollm2-135m LoRA 0110": ("unmask_conll03_cpu.yaml", [*base, "method.unmask=0110"]),
        "unmask smollm2-135m LoRA 0110 + grad ckpt": (
            "unmask_conll03_cpu.yaml",
            [*base, "method.unmask=0110", "train.gradient_checkpointing=true"],
        ),
    }
    if has_bnb:
        out["unmask smollm2-135m QLoRA 4-bit 0110 + grad ckpt"] = (
            "unmask_conll03_cpu.yaml",
            [*base, "method.unmask=0110", "model.quantization=4bit", "train.gradient_checkpointing=true"],
        )
    specs = common.ROOT / "specs"
    for extra in sorted(specs.glob("sift*_cpu.yaml")) + sorted(specs.glob("oie_litbank_to_tempeval.yaml")):
        out[f"{extra.stem} (its pipeline)"] = (extra.name, base)
    return out


@contextlib.contextmanager
def measured_training(sink: dict[str, Any]) -> Iterator[None]:
    """Wrap Trainer.train: time it (CUDA-synchronised) and count the tokens its model sees."""
    import torch
    from transformers import Trainer

    original = Trainer.train

    def train(self, *a, **kw):
        counter = common.TokenCounter(self.model)
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        try:
            return original(self, *a, **kw)
        finally:
            torch.cuda.synchronize()
            sink["seconds"] = sink.get("seconds", 0.0) + time.perf_counter() - t0
            sink["real_tokens"] = sink.get("real_tokens", 0) + counter.real
            sink["padded_tokens"] = sink.get("padded_tokens", 0) + counter.padded
            sink["params"] = common.param_counts(self.model)
            sink["peak_gpu_mib"] = torch.cuda.max_memory_allocated() / 2**20
            counter.remove()

    Trainer.train = train
    try:
        yield
    finally:
        Trainer.train = original


def gpu_peak(dtype_name: str, n: int = 8192, reps: int = 10) -> float:
    import torch

    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[dtype_name]
    a = torch.randn(n, n, device="cuda", dtype=dtype)
    b = torch.randn(n, n, device="cuda", dtype=dtype)
    torch.matmul(a, b)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(reps):
        torch.matmul(a, b)
    torch.cuda.synchronize()
    return 2 * n**3 * reps / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    import torch

    if not torch.cuda.is_available():
        print(SKIP_MESSAGE)
        return 0
    common.setup_env(args)
    from seqlab_spec.pipelines import for_method
    from seqlab_spec.precision import resolve_precision
    from seqlab_spec.spec.load import load_spec

    try:
        import bitsandbytes  # noqa: F401

        has_bnb = True
    except ImportError:
        has_bnb = False
    tmp = Path(tempfile.mkdtemp(prefix="bench-gpu-"))
    precision = resolve_precision("auto")
    todo = settings(4 if args.tiny else args.steps, 64 if args.tiny else args.train, has_bnb)

    def arm(spec_file: str, sets: list[str]):
        def run() -> dict[str, float]:
            spec = load_spec(common.spec_path(spec_file), sets)
            sink: dict[str, Any] = {}
            torch.cuda.reset_peak_memory_stats()
            run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=tmp))
            with measured_training(sink):
                for_method(spec.method.name).run(spec, run_dir)
            fpt = common.train_flops_per_token(sink["params"])
            return {
                "seconds": sink["seconds"],
                "tokens_per_s": sink["real_tokens"] / sink["seconds"],
                "useful_flops_per_s": sink["real_tokens"] * fpt / sink["seconds"],
                "peak_gpu_mib": sink["peak_gpu_mib"],
            }

        return _guarded(run)

    arms: dict[str, Any] = {name: arm(f, s) for name, (f, s) in todo.items()}
    arms["peak_matmul"] = lambda: {"flops_per_s": gpu_peak(precision)}
    samples = common.alternate(arms, args.rounds or (1 if args.tiny else 2))
    peak = [s["flops_per_s"] for s in samples["peak_matmul"]]
    results: dict[str, Any] = {
        "gpu": torch.cuda.get_device_name(0),
        "precision": precision,
        "bitsandbytes": has_bnb,
        "peak_matmul_flops_per_s": common.summary(peak),
        "settings": {},
    }
    for name in todo:
        rows = samples[name]
        if any("error" in r for r in rows):
            results["settings"][name] = {"error": next(r["error"] for r in rows if "error" in r)}
            continue
        results["settings"][name] = {
            "spec": todo[name][0],
            "tokens_per_s": common.summary([r["tokens_per_s"] for r in rows]),
            "mfu": common.summary([r["useful_flops_per_s"] / p for r, p in zip(rows, peak, strict=True)]),
            "peak_gpu_mib": max(r["peak_gpu_mib"] for r in rows),
        }
    common.write_result("gpu_paths", args, results, [common.train_flops_per_token.__doc__ or ""])
    return 0


def _guarded(fn):
    def run() -> dict[str, Any]:
        try:
            return fn()
        except Exception as e:  # noqa: BLE001 - one setting failing (e.g. a method not there yet) is recorded
            return {"error": f"{type(e).__name__}: {e}"[:500]}

    return run


if __name__ == "__main__":
    raise SystemExit(main())
