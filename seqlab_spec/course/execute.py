"""Execute one prepared submission with papermill in a process of its own, under a hard time limit.

The grader never runs a submission in its own process: a kernel that hangs, dies or floods the terminal
costs that submission only. `python -m seqlab_spec.course.execute JOB.json` is the worker; `execute` is the
caller's side. The worker writes a status file; the grader reads outcomes from the executed notebook.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any


def _run_job(job: dict[str, Any]) -> dict[str, Any]:
    """papermill with a per-cell timeout; the way it ended, as a small dict."""
    import papermill as pm
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    try:
        pm.execute_notebook(
            job["input"],
            job["output"],
            parameters=job["parameters"],
            kernel_name=job["kernel"],
            cwd=job["cwd"],
            execution_timeout=job["timeout"],
            start_timeout=job.get("start_timeout", 60),
            progress_bar=False,
            log_output=False,
        )
    except pm.PapermillExecutionError as exc:
        return {"outcome": "error", "ename": exc.ename, "evalue": str(exc.evalue)}
    except CellTimeoutError:
        return {"outcome": "timeout"}
    except DeadKernelError:
        return {"outcome": "kernel-died"}
    except Exception as exc:  # noqa: BLE001 - reported to the grader, which carries on
        return {"outcome": "crashed", "ename": type(exc).__name__, "evalue": str(exc)}
    return {"outcome": "completed"}


def main(argv: list[str]) -> int:
    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    status = _run_job(job)
    Path(job["status"]).write_text(json.dumps(status), encoding="utf-8")
    return 0


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (read from Linux /proc; elsewhere none).

    The kernel runs in a session of its own (jupyter_client starts it so): killing the worker's group alone
    would leave a looping kernel behind.
    """
    proc = Path("/proc")
    children: dict[int, list[int]] = {}
    for entry in proc.iterdir() if proc.is_dir() else []:
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _kill_group(pgid: int) -> None:
    """End the worker's process group (its kernel and anything the student's code started)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def execute(
    input_path: Path,
    output_path: Path,
    parameters: dict[str, Any],
    *,
    cwd: Path,
    timeout: float,
    hard_limit: float,
    kernel: str = "python3",
    workdir: Path,
) -> dict[str, Any]:
    """Run the worker on `input_path`; returns its status (outcome killed/crashed when it gave none)."""
    job_path, status_path, log_path = workdir / "job.json", workdir / "status.json", workdir / "worker.log"
    job = {
        "input": str(input_path),
        "output": str(output_path),
        "parameters": parameters,
        "kernel": kernel,
        "cwd": str(cwd),
        "timeout": timeout,
        "status": str(status_path),
    }
    job_path.write_text(json.dumps(job), encoding="utf-8")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "seqlab_spec.course.execute", str(job_path)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            proc.wait(timeout=hard_limit)
            killed = False
        except subprocess.TimeoutExpired:
            killed = True
            _kill(descendants(proc.pid))
        _kill_group(proc.pid)
        proc.wait()
    if killed:
        return {"outcome": "killed", "limit": hard_limit}
    if status_path.exists():
        return json.loads(status_path.read_text(encoding="utf-8"))
    tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
    return {
        "outcome": "crashed",
        "ename": "WorkerError",
        "evalue": " | ".join(tail) or f"exit {proc.returncode}",
    }


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
