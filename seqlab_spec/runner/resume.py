"""Resuming an interrupted run (`seqlab-spec run --resume RUN_DIR`): whether the folder can be resumed and the spec
is still the one the run started with (rundir.clear_leftovers then clears what the killed run left half-written).

A run killed mid-training keeps RUN_DIR/checkpoints (training/checkpoints.py says which of them counts).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import SeqlabError
from .rundir import RUN_FILES, read_json

if TYPE_CHECKING:
    from ..spec import Spec

_ABSENT = object()


class ResumeError(SeqlabError):
    """RUN_DIR cannot be resumed as asked (finished, still running, or the spec changed)."""


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
    from ..spec.load import load_spec
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
