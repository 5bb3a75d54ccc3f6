"""Resuming an interrupted run (`seqlab-spec run --resume RUN_DIR`): which checkpoint to continue from, whether
the spec is still the one the run started with, and which half-written leftovers to clear.

A run killed mid-training keeps RUN_DIR/checkpoints (written by the Trainer at each epoch end and every
`train.save_every_steps` steps, removed once training ends). The Trainer writes a checkpoint's files one by
one, trainer_state.json near the end, so a checkpoint counts only when every file it needs is there and its
state parses: a kill while one was being written falls back to the one before.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import SeqlabError
from .rundir import RUN_FILES, read_json

if TYPE_CHECKING:
    from .spec import Spec

CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
# What the Trainer needs to continue exactly: optimizer, scheduler and RNG states besides the weights.
CHECKPOINT_FILES = ("trainer_state.json", "optimizer.pt", "scheduler.pt", "rng_state.pth")
WEIGHTS = ("model.safetensors", "adapter_model.safetensors", "pytorch_model.bin", "adapter_model.bin")
# Temporary names the run folder's atomic writers use (`.metrics.json.x1y2`, `.model.x1y2/`, ...): a run killed
# while writing leaves one behind; never a file the user made.
LEFTOVER = re.compile(
    r"^\.(?:"
    + "|".join(re.escape(n) for n in (*RUN_FILES.values(), "checkpoints", "notebook.partial.ipynb"))
    + r")(?:[.-].*)?$"
)
_ABSENT = object()


class ResumeError(SeqlabError):
    """RUN_DIR cannot be resumed as asked (finished, still running, or the spec changed)."""


def _step(path: Path) -> int | None:
    m = CHECKPOINT.match(path.name)
    return int(m.group(1)) if m and path.is_dir() else None


def is_complete(checkpoint: Path) -> bool:
    """Every file a resume reads is there and trainer_state.json parses with the folder's step."""
    step = _step(checkpoint)
    if step is None or not all((checkpoint / f).is_file() for f in CHECKPOINT_FILES):
        return False
    if not any((checkpoint / f).is_file() for f in WEIGHTS) and not any(
        checkpoint.glob("model-*.safetensors")
    ):
        return False
    try:
        state = json.loads((checkpoint / "trainer_state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(state, dict) and state.get("global_step") == step


def last_checkpoint(folder: Path) -> Path | None:
    """The complete checkpoint with the highest step in `folder`, or None (no folder, none complete)."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    found = sorted((s, p) for p in folder.iterdir() if (s := _step(p)) is not None)
    for _, path in reversed(found):
        if is_complete(path):
            return path
    return None


def drop_incomplete_checkpoints(folder: Path) -> list[Path]:
    """Remove checkpoint folders a kill left half-written (the Trainer would write into them again)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    dropped = [p for p in folder.iterdir() if _step(p) is not None and not is_complete(p)]
    for p in dropped:
        shutil.rmtree(p, ignore_errors=True)
    return dropped


def discard_checkpoints(folder: Path) -> None:
    """Remove the checkpoints folder: renamed away first, so a kill meanwhile never leaves a half-deleted
    checkpoint that looks resumable."""
    folder = Path(folder)
    if not folder.exists():
        return
    trash = folder.with_name(f".{folder.name}-discarded-{os.getpid()}")
    folder.rename(trash)
    shutil.rmtree(trash, ignore_errors=True)


def clear_leftovers(run_dir: Path) -> list[str]:
    """Delete the temporary files and folders that atomic writes of a killed run left in `run_dir`."""
    removed = []
    for p in sorted(Path(run_dir).iterdir()):
        if LEFTOVER.match(p.name):
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
            removed.append(p.name)
    return removed


def spec_changes(old: Any, new: Any, path: str = "") -> list[str]:
    """`dotted.key: old -> new`, one row per value that differs between two spec dicts (file order)."""
    if isinstance(old, dict) and isinstance(new, dict):
        rows: list[str] = []
        for key in [*old, *(k for k in new if k not in old)]:
            sub = f"{path}.{key}" if path else str(key)
            rows += spec_changes(old.get(key, _ABSENT), new.get(key, _ABSENT), sub)
        return rows
    if old == new and type(old) is type(new):
        return []
    return [f"{path}: {_show(old)} -> {_show(new)}"]


def _show(value: Any) -> str:
    return "(not set)" if value is _ABSENT else json.dumps(value, ensure_ascii=False)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def check_resumable(run_dir: Path, force: bool = False) -> dict:
    """The run record (run.json) of a folder that can be resumed; a ResumeError saying why not otherwise."""
    run_dir = Path(run_dir)
    if not (run_dir / RUN_FILES["spec"]).is_file():
        raise ResumeError(
            f"{run_dir}: not a run folder (no {RUN_FILES['spec']}); give the folder that `seqlab-spec run` "
            "printed as 'run folder: ...'"
        )
    record_path = run_dir / RUN_FILES["record"]
    record = read_json(record_path) if record_path.is_file() else {}
    finished = record.get("status") == "complete" or (
        not record and (run_dir / RUN_FILES["metrics"]).is_file() and not (run_dir / "checkpoints").exists()
    )
    if finished:
        raise ResumeError(
            f"{run_dir}: this run finished ({RUN_FILES['metrics']} is written); there is nothing to resume: "
            "start a new run with `seqlab-spec run SPEC`"
        )
    pid = record.get("pid")
    if (
        not force
        and record.get("status") == "running"
        and record.get("host") == socket.gethostname()
        and isinstance(pid, int)
        and pid != os.getpid()
        and _alive(pid)
    ):
        raise ResumeError(
            f"{run_dir}: the run is still going (process {pid} on this machine); stop it first, or pass "
            "--force if that process is not this run"
        )
    return record


def resume_spec(
    run_dir: Path, spec_path: str | Path | None = None, overrides: Sequence[str] = (), force: bool = False
) -> tuple[Spec, list[str]]:
    """(spec to continue with, accepted changes): the run's own spec.yaml, or SPEC / --set when given, which
    must then equal it; a change is refused with a `key: old -> new` row each unless `force`."""
    from .spec.load import load_spec
    from .sweep import expand

    run_dir = Path(run_dir)
    saved_path = run_dir / RUN_FILES["spec"]
    saved = load_spec(saved_path)  # a SpecError with rows if this version cannot read it any more
    given = load_spec(spec_path if spec_path is not None else saved_path, overrides)
    candidates = expand(given)
    new = next((s for s in candidates if s.name == saved.name), candidates[0])
    rows = spec_changes(saved.model_dump(mode="json"), new.model_dump(mode="json"))
    if rows and not force:
        what = f"{spec_path} and --set" if spec_path is not None and overrides else (spec_path or "--set")
        body = "\n".join(f"  {r}" for r in rows)
        raise ResumeError(
            f"{run_dir}: the spec differs from the one this run started with ({saved_path} vs {what}):\n{body}\n"
            "resume with the run's own spec (leave out SPEC and --set), or pass --force to continue with the "
            "new values (the run then mixes both; run.json records the changes)"
        )
    return new, rows
