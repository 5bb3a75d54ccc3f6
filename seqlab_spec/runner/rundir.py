"""The run folder, the one module that names its files and writes them: created fresh (never overwritten),
every file written atomically; run.json (status and attempts); what a method leaves in it (`write_run`); the
sweep report's folder; clearing what a killed run left half-written (`clear_leftovers`, for --resume).

The runner (execute.py, launch.py, resume.py), the pipelines and the notebooks call these; no other module writes
into a run folder (papermill writes the executed notebook, under `PARTIAL_NOTEBOOK` until it ends; the Trainer
its checkpoints/).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..spec import Spec

RUN_FILES = {
    "spec": "spec.yaml",
    "notebook": "notebook.ipynb",
    "metrics": "metrics.json",
    "predictions": "predictions.jsonl",
    "train_log": "train_log.jsonl",
    "curve": "learning_curve.png",
    "model": "model",
    "record": "run.json",
}
PARTIAL_NOTEBOOK = ".notebook.partial.ipynb"  # papermill's output while it runs
SWEEP_REPORT = "report.md"  # in `<out_dir>/<name>-sweep-<UTC time>/`, beside the F1 bar chart
SWEEP_BARS = "f1.png"
# Temporary names the atomic writers use (`.metrics.json.x1y2`, `.model.x1y2/`, ...): a run killed while writing
# leaves one behind; never a file the user made.
LEFTOVER = re.compile(
    r"^\.(?:"
    + "|".join(re.escape(n) for n in (*RUN_FILES.values(), "checkpoints", PARTIAL_NOTEBOOK.lstrip(".")))
    + r")(?:[.-].*)?$"
)


def create_run_dir(out_dir: str | Path, name: str) -> Path:
    """A new folder `<out_dir>/<name>-<UTC time>`, suffixed -2, -3... if taken: an old run is never touched."""
    parent = Path(out_dir).absolute()  # absolute: the notebook kernel runs in notebooks/, not here
    parent.mkdir(parents=True, exist_ok=True)
    stem = f"{name}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
    for n in range(1, 1000):
        path = parent / (stem if n == 1 else f"{stem}-{n}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a fresh run folder under {parent}")


def _read_umask() -> int:
    mask = os.umask(0o022)  # the only way to read it; done once, at import, before any writer thread exists
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def readable(path: Path) -> None:
    """Give a temporary file or folder the permissions a new one gets (mkstemp/mkdtemp make them private)."""
    os.chmod(path, (0o777 if Path(path).is_dir() else 0o666) & ~_UMASK)


def write_text(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder, then rename: never half a file, even if the process
    is killed (the data is flushed to disk before the rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        readable(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def write_jsonl(path: Path, rows: list[dict]) -> None:
    write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


def update_json(path: Path, **fields: Any) -> dict:
    """Merge `fields` into a JSON object file (created if missing), atomically; returns the new object."""
    obj = read_json(path) if Path(path).exists() else {}
    obj.update(fields)
    write_json(path, obj)
    return obj


def load_run(run_dir: Path) -> tuple[Spec, dict]:
    """The resolved spec and metrics of a finished run folder. Raises SeqlabError when RUN_DIR is not a run
    folder, SpecError (file:line rows, as `run --resume` reads it) when its spec.yaml does not validate."""
    import yaml
    from pydantic import ValidationError

    from ..errors import SeqlabError
    from ..spec import Spec
    from ..spec.load import load_spec

    run_dir = Path(run_dir)
    spec_path = run_dir / RUN_FILES["spec"]
    if not spec_path.exists():
        raise SeqlabError(f"{run_dir} is not a run folder (no {RUN_FILES['spec']})")
    try:  # the values as written (a resolved spec: nothing left to interpolate or resolve)
        spec = Spec.model_validate(yaml.safe_load(spec_path.read_text()))
    except (ValidationError, yaml.YAMLError):
        load_spec(spec_path)  # the same file through the loader: a SpecError with its file:line rows
        raise
    metrics_path = run_dir / RUN_FILES["metrics"]
    metrics = read_json(metrics_path) if metrics_path.exists() else {}
    return spec, metrics


def write_resolved_spec(run_dir: Path, spec: Spec) -> None:
    """spec.yaml: the spec as validated, every default filled in (what load_run and --resume read back)."""
    import yaml

    write_text(run_dir / RUN_FILES["spec"], yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False))


# ------------------------------------------------------------------------------------------- run.json


def run_metadata(spec: Spec, wall_s: float) -> dict:
    """What a run ran with. The thread count belongs here: on one CPU a spec and seed repeat bit for bit only
    with the same number of torch threads (reductions split differently)."""
    import peft
    import torch
    import transformers

    from .. import __version__
    from ..machine import device_kind

    text = spec.model_dump_json()
    return {
        "seqlab_spec": __version__,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "peft": peft.__version__,
        "python": platform.python_version(),
        "device": device_kind(),
        "torch_threads": torch.get_num_threads(),
        "spec_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "wall_seconds": round(wall_s, 1),
    }


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def start_attempt(run_dir: Path, spec: Spec, notebook: bool, **record: Any) -> list[dict]:
    """Mark the run `running` in run.json and append an attempt (start time, process id, and `record`: resumed,
    launcher...); returns the attempts, for `end_attempt`."""
    path = Path(run_dir) / RUN_FILES["record"]
    meta = run_metadata(spec, 0.0)
    attempts = read_json(path).get("attempts", []) if path.exists() else []
    attempts.append({"started": _now(), "pid": os.getpid(), **record})
    update_json(
        path,
        name=spec.name,
        status="running",
        pid=os.getpid(),
        host=socket.gethostname(),
        notebook=notebook,
        versions={k: meta[k] for k in ("seqlab_spec", "torch", "transformers", "peft", "python")},
        device=meta["device"],
        spec_sha256=meta["spec_sha256"],
        attempts=attempts,
    )
    return attempts


def end_attempt(run_dir: Path, attempts: list[dict], status: str, **fields: Any) -> None:
    """Close the last attempt with `status` (complete | failed | interrupted) and `fields` (error, wall_seconds);
    the run's status becomes it. A killed process never gets here: its run stays `running`."""
    attempts[-1].update(ended=_now(), status=status, **fields)
    update_json(Path(run_dir) / RUN_FILES["record"], status=status, attempts=attempts)


# ------------------------------------------------------------------------------------------- a method's output


def save_model_atomically(save: Callable[[Path], None], dest: Path) -> None:
    """save(tmp) then rename: a crash never leaves half a model in the run folder. A model an earlier attempt
    of a resumed run wrote is replaced (moved aside first, so `dest` is always one whole model)."""
    from ..models.registry import quiet_progress

    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        with quiet_progress():
            save(tmp)
        readable(tmp)
        if dest.exists():
            old = dest.with_name(f".{dest.name}.replaced-{os.getpid()}")
            dest.rename(old)
            tmp.rename(dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_run(
    spec: Spec,
    run_dir: Path,
    metrics: dict,
    predictions: list[dict],
    log_history: list[dict],
    wall_s: float,
    save_model: Callable[[Path], None],
) -> dict:
    """What every method leaves in its run folder: metrics (with the run's metadata), predictions, the
    training log and curve, then the model, written whole or not at all. Returns the metrics."""
    from ..evaluation.plots import learning_curve
    from ..evaluation.scores import READINGS

    run_dir = Path(run_dir)
    scoring = {"headline": spec.eval.mode, **READINGS}
    metrics = {**metrics, "scoring": scoring, "meta": run_metadata(spec, wall_s)}
    write_json(run_dir / RUN_FILES["metrics"], metrics)
    write_jsonl(run_dir / RUN_FILES["predictions"], predictions)
    write_jsonl(run_dir / RUN_FILES["train_log"], log_history)
    if log_history:
        tmp = run_dir / f".{RUN_FILES['curve']}.tmp.png"
        learning_curve(log_history, tmp, title=spec.name)
        tmp.replace(run_dir / RUN_FILES["curve"])
    if spec.run.save_model:
        save_model_atomically(save_model, run_dir / RUN_FILES["model"])
    return metrics


def write_sweep_report(out_dir: Path, name: str, table: str, bars: list[tuple[str, float, float]]) -> Path:
    """A fresh folder `<out_dir>/<name>-sweep-<UTC time>` beside the sweep's runs: report.md (`table`, from
    report.compare) and the F1 bar chart of `bars` ((label, dev F1, test F1) rows). Returns report.md."""
    from ..evaluation.plots import f1_bars

    folder = create_run_dir(out_dir, f"{name}-sweep")
    f1_bars(bars, folder / SWEEP_BARS, title=name)
    write_text(folder / SWEEP_REPORT, f"# {name}\n\n{table}\n![F1 per setting]({SWEEP_BARS})\n")
    return folder / SWEEP_REPORT


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
