"""The run folder: created fresh (never overwritten), every file written atomically."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .spec import Spec

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


def update_json(path: Path, **fields: Any) -> dict:
    """Merge `fields` into a JSON object file (created if missing), atomically; returns the new object."""
    obj = read_json(path) if Path(path).exists() else {}
    obj.update(fields)
    write_json(path, obj)
    return obj


def load_run(run_dir: Path) -> tuple[Spec, dict]:
    """The resolved spec and metrics of a finished run folder."""
    import yaml

    from .errors import SeqlabError
    from .spec import Spec

    run_dir = Path(run_dir)
    spec_path = run_dir / RUN_FILES["spec"]
    if not spec_path.exists():
        raise SeqlabError(f"{run_dir} is not a run folder (no {RUN_FILES['spec']})")
    spec = Spec.model_validate(yaml.safe_load(spec_path.read_text()))
    metrics_path = run_dir / RUN_FILES["metrics"]
    metrics = read_json(metrics_path) if metrics_path.exists() else {}
    return spec, metrics
