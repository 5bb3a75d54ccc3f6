"""Shared by every benchmark: alternating timing, the machine and version record, the JSON result file, data
and tiny local models for `--tiny` smoke runs.

Why alternate: the machine these figures come from is shared (other processes load its 2 cores), so an absolute
time says as much about the neighbours as about the code. Two arms measured in turn within one process see the
same load, and the ratio of adjacent measurements cancels most of it. Rounds run A B, then B A (ABBA...), so a
load that drifts during the run does not favour the arm that always goes first.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "benchmarks" / "out"
SCHEMA_VERSION = 1


def setup_env(args: argparse.Namespace | None = None) -> None:
    """Offline hub, quiet library logs and the thread count: what every benchmark runs under. `--threads N`
    also reaches child processes (OMP_NUM_THREADS). Specs on licensed corpora read them from $SEQLAB_DATA."""
    threads = getattr(args, "threads", None)
    if threads:
        os.environ["OMP_NUM_THREADS"] = str(threads)
        import torch

        torch.set_num_threads(threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()


def parser(description: str) -> argparse.ArgumentParser:
    """The options every benchmark takes: --tiny (seconds, tiny models, for the smoke test), --out, --rounds."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--tiny", action="store_true", help="tiny local models and data: checks the script, not speed")
    p.add_argument("--out", type=Path, default=OUT_DIR, help="folder of the JSON result (default benchmarks/out)")
    p.add_argument("--rounds", type=int, default=None, help="alternation rounds (each arm runs once per round)")
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads (default: torch's choice, one per core); on a loaded shared machine 1 avoids the "
        "spin-waiting of oversubscribed OpenMP threads",
    )
    return p


# ------------------------------------------------------------------------------------------- the record


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    """What the figures were measured on; load average says how busy the shared machine was."""
    import torch

    from seqlab_spec.training.precision import cpu_has_fast_bf16

    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cpu_fast_bf16": cpu_has_fast_bf16(),
        "load_avg_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        info["ram_gib"] = round(pages * size / 2**30, 1)
    except (ValueError, OSError):
        pass
    return info


def versions() -> dict[str, str]:
    import accelerate
    import peft
    import torch
    import transformers

    import seqlab_spec

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "peft": peft.__version__,
        "accelerate": accelerate.__version__,
        "seqlab_spec": seqlab_spec.__version__,
    }


def parse(p: argparse.ArgumentParser, argv: Sequence[str] | None, script: str) -> argparse.Namespace:
    """Parse `argv` (default sys.argv[1:]) and remember the command line it stands for."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = p.parse_args(argv)
    args.command = command_line(script, argv)
    return args


def command_line(script: str, argv: Sequence[str]) -> str:
    """The command that reproduces a result, from the repository root."""
    path = Path(script).resolve()
    shown = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else script
    return shlex.join([".venv/bin/python", shown, *argv])


def write_result(name: str, args: argparse.Namespace, results: dict[str, Any], notes: Sequence[str] = ()) -> Path:
    """benchmarks/out/<name>.json (tiny runs: <name>.tiny.json, never mistaken for a real figure)."""
    payload = {
        "schema": SCHEMA_VERSION,
        "name": name,
        "tiny": bool(args.tiny),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": getattr(args, "command", None) or command_line(sys.argv[0], sys.argv[1:]),
        "machine": machine(),
        "versions": versions(),
        "results": results,
        "notes": list(notes),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}{'.tiny' if args.tiny else ''}.json"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=_json_default) + "\n")
    tmp.replace(path)
    print(f"wrote {path}", flush=True)
    return path


def _json_default(x: Any) -> Any:
    if hasattr(x, "item"):
        return x.item()
    if isinstance(x, Path):
        return str(x)
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


# ------------------------------------------------------------------------------------------- timing


def summary(values: Sequence[float]) -> dict[str, Any]:
    """Median (the figure), min, max and every value."""
    vals = [float(v) for v in values]
    return {
        "median": statistics.median(vals),
        "min": min(vals),
        "max": max(vals),
        "n": len(vals),
        "values": [round(v, 6) for v in vals],
    }


def alternate(arms: dict[str, Callable[[], dict[str, float]]], rounds: int) -> dict[str, list[dict[str, float]]]:
    """Run every arm once per round, in order on even rounds and reversed on odd ones (ABBA...).

    Each arm returns a dict of measurements (e.g. seconds, tokens); the result lists them per arm, per round.
    """
    out: dict[str, list[dict[str, float]]] = {name: [] for name in arms}
    names = list(arms)
    for r in range(rounds):
        for name in names if r % 2 == 0 else reversed(names):
            t0 = time.time()
            row = arms[name]()
            print(f"  round {r + 1}/{rounds}  {name}: {_fmt(row)}  ({time.time() - t0:.1f}s)", flush=True)
            out[name].append(row)
    return out


def _fmt(row: dict[str, float]) -> str:
    return "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items())


def paired_ratio(samples: dict[str, list[dict[str, float]]], num: str, den: str, key: str) -> dict[str, Any]:
    """Per round, samples[num][key] / samples[den][key] (measured next to each other); their median is the figure."""
    ratios = [a[key] / b[key] for a, b in zip(samples[num], samples[den], strict=True) if b[key]]
    return summary(ratios)


# ------------------------------------------------------------------------------------------- compute


def matmul_flops(dtype_name: str, n: int = 2048, reps: int = 4) -> float:
    """Achieved FLOP/s of an n x n torch.matmul in `dtype_name` (fp32 | bf16): this CPU's practical peak."""
    import torch

    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    a = torch.randn(n, n).to(dtype)
    b = torch.randn(n, n).to(dtype)
    torch.matmul(a, b)  # kernel selection and first-touch memory outside the timing
    t0 = time.perf_counter()
    for _ in range(reps):
        torch.matmul(a, b)
    return 2 * n**3 * reps / (time.perf_counter() - t0)


def param_counts(model: Any) -> dict[str, int]:
    """Total, trainable and embedding-table parameters (an embedding lookup is not a matmul: no FLOPs)."""
    import torch

    total = trainable = embedding = 0
    seen: set[int] = set()
    for module in model.modules():
        if isinstance(module, torch.nn.Embedding):
            for p in module.parameters(recurse=False):
                if id(p) not in seen:
                    seen.add(id(p))
                    embedding += p.numel()
    for p in model.parameters():
        total += logical_numel(p)
        if p.requires_grad:
            trainable += p.numel()
    return {"total": total, "trainable": trainable, "embedding": embedding, "matmul": total - embedding}


def logical_numel(p: Any) -> int:
    """Elements of a parameter at its logical shape: a bitsandbytes 4-bit weight stores two values per byte in
    a packed tensor of half the elements, and its quant_state keeps the shape it stands for."""
    import math

    shape = getattr(getattr(p, "quant_state", None), "shape", None)
    return math.prod(shape) if shape is not None else p.numel()


def train_flops_per_token(counts: dict[str, int]) -> int:
    """Forward 2N, backward 2N for the activation gradients plus 2 x trainable for the weight gradients.

    N = parameters that take part in a matmul (embeddings excluded). Full fine-tuning: 6N, the usual rule;
    LoRA: 4N + 2 x trainable, since frozen weights need no weight gradient. Attention's score matmuls
    (~4 x layers x width x length per token) are left out: at CoNLL lengths (~25 subwords) they add < 2%.
    """
    n = counts["matmul"]
    trainable = min(counts["trainable"], n)
    return 4 * n + 2 * trainable


class TokenCounter:
    """Counts the real (attention_mask) and padded tokens every training forward sees, via a forward pre-hook:
    exact per step, whatever batches the sampler and the collator made."""

    def __init__(self, model: Any) -> None:
        self.real = 0
        self.padded = 0
        self.forwards = 0
        self._handle = model.register_forward_pre_hook(self._hook, with_kwargs=True)

    def _hook(self, module: Any, args: tuple, kwargs: dict) -> None:
        if not module.training:
            return
        mask = kwargs.get("attention_mask")
        if mask is None:
            return
        self.real += int(mask.sum())
        self.padded += int(mask.numel())
        self.forwards += 1

    def remove(self) -> None:
        self._handle.remove()


# ------------------------------------------------------------------------------------------- data and models


@contextlib.contextmanager
def measured_training(sink: dict[str, Any]) -> Iterator[None]:
    """Wrap Trainer.train for any pipeline that trains with it: time it (CUDA-synchronised on a GPU), count the
    real and padded tokens its model sees and its optimizer steps; also the parameter counts and peak GPU memory.
    Accumulates into `sink` over every `train()` call inside the block."""
    import torch
    from transformers import Trainer

    original = Trainer.train
    cuda = torch.cuda.is_available()

    def train(self, *a, **kw):
        counter = TokenCounter(self.model)
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        try:
            return original(self, *a, **kw)
        finally:
            if cuda:
                torch.cuda.synchronize()
            sink["seconds"] = sink.get("seconds", 0.0) + time.perf_counter() - t0
            sink["real_tokens"] = sink.get("real_tokens", 0) + counter.real
            sink["padded_tokens"] = sink.get("padded_tokens", 0) + counter.padded
            sink["steps"] = sink.get("steps", 0) + self.state.global_step
            sink["params"] = param_counts(self.model)
            sink["peak_gpu_mib"] = torch.cuda.max_memory_allocated() / 2**20 if cuda else None
            counter.remove()

    Trainer.train = train
    try:
        yield
    finally:
        Trainer.train = original


def conll_limits(n_train: int, n_dev: int | None = None, n_test: int | None = None) -> list[str]:
    """--set overrides that take the first N sentences of each CoNLL-2003 split."""
    out = [f"data.limit.train={n_train}"]
    if n_dev:
        out.append(f"data.limit.dev={n_dev}")
    if n_test:
        out.append(f"data.limit.test={n_test}")
    return out


def optimizer_step(model, batch: dict, optimizer, autocast_dtype) -> None:
    """One training step as the Trainer takes it on CPU: forward (under bf16 autocast when given), backward,
    update. The arms that time training steps share it so they differ only in what they compare."""
    import contextlib

    import torch

    ctx = torch.autocast("cpu", dtype=autocast_dtype) if autocast_dtype is not None else contextlib.nullcontext()
    with ctx:
        loss = model(**batch).loss
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def spec_path(name: str) -> Path:
    return ROOT / "specs" / name
