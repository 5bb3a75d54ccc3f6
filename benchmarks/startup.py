"""Start-up: time from `seqlab-spec run` to its first training step for SmolLM2-135M with the converted-weights
cache warm against cold (a fresh SEQLAB_CACHE: the GGUF file is de-quantized again), and `seqlab-spec validate
--portable` (GPU specs validate on a CPU machine too) on every shipped spec against the interpreter's own start.

Each measurement is a fresh process (imports included), timed from its start to the progress line of step 1
(train.logging_steps=1); the process is then stopped. Arms alternate (ABBA across rounds).

    .venv/bin/python benchmarks/startup.py --rounds 3
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

from seqlab_spec.models.tiny import save_tiny_decoder  # noqa: E402

CLI = [sys.executable, "-m", "seqlab_spec.cli"]


def _args(argv: list[str] | None = None):
    p = common.parser(__doc__.split("\n\n")[0])
    p.add_argument("--model", default="smollm2-135m", help="the model whose first step is timed")
    return common.parse(p, argv, __file__)


def first_step_seconds(cmd: list[str], env: dict[str, str], marker: str = "step 1/") -> dict[str, float]:
    """Seconds from starting `cmd` to the first stdout line that starts with `marker`; the process is stopped
    there. RuntimeError (with the output's tail) if it ends without printing it."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=common.ROOT)
    tail: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(marker):
                return {"seconds": time.perf_counter() - t0}
            tail = (tail + [line.rstrip()])[-15:]
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait()
    raise RuntimeError(f"{' '.join(cmd)} ended (status {proc.returncode}) before its first step:\n" + "\n".join(tail))


def wall_seconds(cmd: list[str], env: dict[str, str]) -> dict[str, float]:
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=common.ROOT)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({res.returncode}): {res.stderr[-1500:]}")
    return {"seconds": time.perf_counter() - t0}


def run_command(spec: Path, model: str, out: Path) -> list[str]:
    sets = [
        f"model.name={model}",
        "method.unmask=0000",
        "data.limit.train=32",
        "data.limit.dev=8",
        "data.limit.test=8",
        "train.max_steps=1",
        "train.logging_steps=1",
        "run.save_model=false",
    ]
    return [*CLI, "run", str(spec), "--no-notebook", "--out", str(out), *(a for s in sets for a in ("--set", s))]


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    common.setup_env(args)
    tmp = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    model = str(save_tiny_decoder(tmp / "tiny-llama")) if args.tiny else args.model
    rounds = args.rounds or (1 if args.tiny else 3)
    env = dict(os.environ)
    warm_cache = tmp / "warm-cache"
    cmd = run_command(common.spec_path("unmask_conll03_cpu.yaml"), model, tmp / "runs")
    print("preparing the warm cache (one untimed run)", flush=True)
    first_step_seconds(cmd, {**env, "SEQLAB_CACHE": str(warm_cache)})

    def cold() -> dict[str, float]:
        cache = Path(tempfile.mkdtemp(prefix="cold-cache-", dir=tmp))
        return first_step_seconds(cmd, {**env, "SEQLAB_CACHE": str(cache)})

    def warm() -> dict[str, float]:
        return first_step_seconds(cmd, {**env, "SEQLAB_CACHE": str(warm_cache)})

    specs = sorted(str(p.relative_to(common.ROOT)) for p in (common.ROOT / "specs").glob("*.yaml"))
    if args.tiny:
        specs = specs[:2]

    arms = {
        "first_step_cold": cold,
        "first_step_warm": warm,
        "validate_all_specs": lambda: wall_seconds([*CLI, "validate", "--portable", *specs], env),
        "python_start": lambda: wall_seconds([sys.executable, "-c", "pass"], env),
        "import_torch": lambda: wall_seconds([sys.executable, "-c", "import torch"], env),
    }
    samples = common.alternate(arms, rounds)
    results: dict[str, Any] = {
        "model": args.model if not args.tiny else "tiny local Llama",
        "command_timed": " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmd)),
        "validated_specs": specs,
        "seconds_noisy": {k: common.summary([r["seconds"] for r in v]) for k, v in samples.items()},
        "ratios": {
            "first_step cold/warm": common.paired_ratio(samples, "first_step_cold", "first_step_warm", "seconds"),
            "validate/python_start": common.paired_ratio(samples, "validate_all_specs", "python_start", "seconds"),
            "validate/import_torch": common.paired_ratio(samples, "validate_all_specs", "import_torch", "seconds"),
        },
    }
    common.write_result("startup", args, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
