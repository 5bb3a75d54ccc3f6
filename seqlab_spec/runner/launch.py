"""Multi-process runs: the same pipeline, data-parallel over N processes through torchrun.

`launch(spec_path, overrides, nproc, out_dir)` runs the spec through the runner's `execute.run_spec`, as
`seqlab-spec run --no-notebook` does: every run checked first (preflight), each run folder created with its
resolved spec.yaml in this process, a sweep report after several runs; only each folder's execution differs:

    python -m torch.distributed.run --standalone --nproc_per_node N -m seqlab_spec.runner.launch RUN_DIR

starts N workers on the run folder. Every rank reads RUN_DIR/spec.yaml, so all train on exactly the same spec;
the Trainer wraps the model in DistributedDataParallel (gloo on CPU, NCCL on GPUs), gives each rank its share
of every global batch (`train.batch_size` per process x N x `train.grad_accum`) and averages the gradients.

Rank 0 is the run: it records run.json, trains, evaluates, writes the run folder and alone prints. A rank > 0
trains its share in a private scratch folder (removed when it ends) and stops when training ends, its output
going to a log file the launcher shows if that rank fails: one run folder, one log, one evaluation.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ..errors import SeqlabError

RANK_LOGS_ENV = "SEQLAB_RANK_LOGS"  # folder where ranks > 0 write rank<N>.log (set by `launch`)
NPROC_ENV = "SEQLAB_LAUNCH_NPROC"  # how many processes `launch` asked for: the workers check they got them
LOG_TAIL_LINES = 30


class LaunchError(SeqlabError):
    """torchrun or one of its workers failed; names the run folder and the failing rank's log."""


def torchrun_command(run_dir: Path, nproc: int, accelerate_config: Path | None = None) -> list[str]:
    """The worker command line: torchrun on this interpreter, one process per rank, rendezvous on localhost.

    With an `accelerate config` file (FSDP, DeepSpeed, mixed precision...), `accelerate launch` starts the same
    workers instead (it runs torchrun itself); the Trainer reads the plugin settings it exports.
    """
    worker = ["-m", "seqlab_spec.runner.launch", str(run_dir)]
    if accelerate_config is not None:
        return [
            sys.executable,
            "-m",
            "accelerate.commands.launch",
            "--config_file",
            str(accelerate_config),
            "--num_processes",
            str(nproc),
            *worker,
        ]
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", *worker]


def default_nproc() -> int:
    """One process per visible GPU; 2 on a CPU-only machine (more processes than cores gain nothing)."""
    from ..machine import gpu_count

    return gpu_count() or 2


def worker_env(nproc: int, rank_logs: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """The workers' environment: where ranks > 0 log, and, unless set, cores / N threads per process (what
    torchrun would otherwise set to 1 with a warning; more threads than cores make OpenMP spin)."""
    env = dict(os.environ if base is None else base)
    env[RANK_LOGS_ENV] = str(rank_logs)
    env[NPROC_ENV] = str(nproc)
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    return env


def _check(nproc: int, no_notebook: bool) -> None:
    if not no_notebook:
        raise SeqlabError(
            "--launcher torchrun runs the pipeline without papermill (one notebook kernel per process cannot "
            "share a run): add --no-notebook"
        )
    if nproc < 1:
        raise SeqlabError(f"--nproc: {nproc} processes; give at least 1")


def launch(
    spec_path: str | Path,
    overrides: Sequence[str] = (),
    nproc: int = 2,
    out_dir: str | Path | None = None,
    no_notebook: bool = True,
    accelerate_config: str | Path | None = None,
) -> list[Path]:
    """Run SPEC (every run of a sweep, one after another) with `nproc` data-parallel processes; returns the
    run folders. Bad input fails before any folder exists, as with `seqlab-spec run`.

    `accelerate_config`: an `accelerate config` YAML (FSDP / DeepSpeed); the workers start through
    `accelerate launch` with it instead of plain torchrun (DDP)."""
    from ..machine import hardware_problems
    from ..spec.load import load_spec
    from .execute import run_spec

    _check(nproc, no_notebook)
    config = Path(accelerate_config) if accelerate_config is not None else None
    if config is not None and not config.is_file():
        raise SeqlabError(f"--accelerate-config: {config} does not exist; write one with `accelerate config`")

    def workers(spec, run_dir: Path) -> None:
        t = spec.train
        print(
            f"run folder: {run_dir}  ({nproc} processes; global batch {t.batch_size} x {nproc} x {t.grad_accum} "
            f"= {t.batch_size * nproc * t.grad_accum})",
            flush=True,
        )
        _run_workers(run_dir, nproc, config)

    spec = load_spec(spec_path, overrides, checks=[hardware_problems])
    return run_spec(spec, Path(out_dir) if out_dir is not None else None, use_notebook=False, execute=workers)


def _run_workers(run_dir: Path, nproc: int, accelerate_config: Path | None) -> None:
    logs = Path(tempfile.mkdtemp(prefix="seqlab-ranks-"))
    try:
        rc = subprocess.call(torchrun_command(run_dir, nproc, accelerate_config), env=worker_env(nproc, logs))
        if rc != 0:
            raise LaunchError(
                f"the workers exited with status {rc}; the run folder {run_dir} is kept (its run.json says how far "
                f"it got).{_rank_log_tails(logs)}"
            )
    finally:
        shutil.rmtree(logs, ignore_errors=True)


def _rank_log_tails(logs: Path) -> str:
    parts = []
    for log in sorted(logs.glob("rank*.log")):
        lines = log.read_text(errors="replace").splitlines()
        if any("Error" in line or "Traceback" in line for line in lines):
            parts.append(f"\n--- {log.stem} (last {LOG_TAIL_LINES} lines) ---\n" + "\n".join(lines[-LOG_TAIL_LINES:]))
    return "".join(parts)


# ------------------------------------------------------------------------------------------- the worker


def _redirect_output(path: Path) -> None:
    """Send this process's stdout and stderr (file descriptors, so C libraries and warnings too) to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def train_share(spec, scratch: Path) -> None:
    """A rank > 0: the same data, model and training as rank 0 (DDP needs every rank in every step), then
    nothing: rank 0 alone evaluates and writes the run."""
    from .. import methods
    from ..pipelines.driver import fit_steps

    fit_steps(methods.pipeline(spec.method.name), spec, scratch)


def worker(run_dir: Path) -> int:
    """One rank, started by torchrun: rank 0 runs into RUN_DIR, the others into a scratch folder, quietly."""
    from .execute import execute_run
    from .rundir import load_run

    rank = int(os.environ.get("RANK", "0"))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    asked = int(os.environ.get(NPROC_ENV, world))
    if world != asked:
        raise LaunchError(
            f"{asked} processes were asked for but the launcher started {world}: accelerate launches a single "
            "process on CPU (FSDP/DeepSpeed configs are for GPUs); on CPU launch without an accelerate config"
        )
    spec, _ = load_run(run_dir)
    if rank == 0:
        execute_run(spec, run_dir, None, launcher="torchrun", nproc=world)  # None: no notebook, the library
        return 0
    logs = os.environ.get(RANK_LOGS_ENV)
    _redirect_output(Path(logs) / f"rank{rank}.log" if logs else Path(os.devnull))
    scratch = Path(tempfile.mkdtemp(prefix=f"seqlab-rank{rank}-"))
    try:
        train_share(spec, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m seqlab_spec.runner.launch RUN_DIR  (started by torchrun; see "
              "seqlab_spec.runner.launch.launch)")
        return 2
    try:
        return worker(Path(args[0]))
    except SeqlabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 1))


if __name__ == "__main__":
    raise SystemExit(main())
