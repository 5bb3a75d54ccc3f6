"""spec -> run folder(s): execute the method's teaching notebook with papermill, or the pipeline directly.

What a failure leaves behind:
- bad input (data files, model name, settings that need the model or the data to check) fails in `preflight`,
  before any run folder exists: exit 1, nothing written;
- a failure after that (a notebook cell, training) keeps the run folder, marked `"status": "failed"` in
  run.json, with the executed notebook up to the failing cell; a killed run stays `"running"` and continues
  with `seqlab-spec run --resume RUN_DIR`;
- every file is written atomically (the notebook too: papermill writes it as it goes, to a hidden name that
  becomes notebook.ipynb when the execution ends, successfully or not), and no run folder is ever reused
  except by --resume.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .. import methods
from ..errors import SeqlabError
from ..shipped import shipped_root
from ..spec import Spec
from .preflight import preflight
from .report import compare, summary_lines
from .rundir import (
    PARTIAL_NOTEBOOK,
    RUN_FILES,
    clear_leftovers,
    create_run_dir,
    end_attempt,
    read_json,
    read_jsonl,
    start_attempt,
    write_resolved_spec,
    write_sweep_report,
)
from .sweep import expand

EXIT_NOTEBOOK_FAILED = 3
log = logging.getLogger("seqlab_spec")


class NotebookFailed(SeqlabError):
    """A notebook cell raised: names the cell and its error; the executed notebook stays in the run folder."""

    exit_code = EXIT_NOTEBOOK_FAILED


def notebook_for(spec: Spec, spec_dir: Path | None = None) -> Path:
    """The notebook to execute: `run.notebook` (relative to the spec's folder, else to the shipped files'
    root, where `notebooks/x.ipynb` names a shipped one), or the method's shipped notebook."""
    if spec.run.notebook:
        p = Path(spec.run.notebook)
        if not p.is_absolute() and spec_dir is not None and (spec_dir / p).exists():
            p = spec_dir / p
        elif not p.is_absolute():
            p = shipped_root() / p
    else:
        name = methods.notebook(spec.method.name)
        if name is None:
            raise SeqlabError(
                f"method {spec.method.name!r} has no teaching notebook: run it with --no-notebook, or set run.notebook"
            )
        p = shipped_root() / "notebooks" / name
    if not p.exists():
        raise SeqlabError(f"run.notebook: {p} does not exist; fix the path or use --no-notebook")
    return p


def _one_line(text: str) -> str:
    return "; ".join(line.strip() for line in str(text).splitlines() if line.strip())


def execute_notebook(spec: Spec, run_dir: Path, notebook: Path) -> None:
    """papermill: the resolved spec goes into the `parameters` cell; outputs stream to this terminal."""
    import papermill as pm
    from nbclient.exceptions import DeadKernelError

    out = run_dir / RUN_FILES["notebook"]
    partial = run_dir / PARTIAL_NOTEBOOK
    try:
        pm.execute_notebook(
            str(notebook),
            str(partial),
            parameters={
                "spec": spec.model_dump(mode="json"),
                "run_dir": str(run_dir),
                "solutions": spec.run.solutions,
            },
            # the kernel's own stdout/stderr (training progress lines) straight to this terminal
            stdout_file=sys.stdout,
            stderr_file=sys.stderr,
            progress_bar=False,
            kernel_name="python3",
            cwd=str(notebook.parent),
        )
    except pm.PapermillExecutionError as e:
        source = next((line.strip() for line in (e.source or "").splitlines() if line.strip()), "")
        raise NotebookFailed(
            f"notebook cell In [{e.exec_count}] failed (`{source[:80]}`): {e.ename}: {_one_line(e.evalue)} "
            f"(executed notebook with the error: {out})"
        ) from None
    except DeadKernelError:
        raise NotebookFailed(
            f"the notebook's kernel died (killed, e.g. out of memory) while it ran {notebook.name}; the cells "
            f"it finished are in {out}; `seqlab-spec run --resume {run_dir}` continues from the last checkpoint"
        ) from None
    finally:
        if partial.exists():  # whole once papermill returns, whether the notebook succeeded or not
            partial.replace(out)


# ------------------------------------------------------------------------------------------- the runner


def execute_run(spec: Spec, run_dir: Path, notebook: Path | None, **record) -> Path:
    """Run the method into `run_dir` (through `notebook`, or the library when None), keeping run.json's
    status true: running -> complete | failed (a killed process leaves it running)."""
    attempts = start_attempt(run_dir, spec, notebook is not None, **record)
    t0 = time.time()
    try:
        if notebook is not None:
            execute_notebook(spec, run_dir, notebook)
        else:
            methods.pipeline(spec.method.name).run(spec, run_dir)
        metrics_path = run_dir / RUN_FILES["metrics"]
        if not metrics_path.exists():
            raise SeqlabError(f"the run finished without writing {metrics_path}")
    except BaseException as e:
        status = "interrupted" if isinstance(e, KeyboardInterrupt) else "failed"
        end_attempt(run_dir, attempts, status, error=_one_line(f"{type(e).__name__}: {e}")[:2000])
        raise
    end_attempt(run_dir, attempts, "complete", wall_seconds=round(time.time() - t0, 1))
    rows = read_jsonl(run_dir / RUN_FILES["predictions"])
    print(summary_lines(read_json(metrics_path), rows, spec.eval.show))
    print(f"run folder: {run_dir}  ({time.time() - t0:.0f} s)", flush=True)
    return run_dir


Execute = Callable[[Spec, Path], object]  # runs a prepared run folder (spec.yaml written), e.g. torchrun workers


def run_one(
    spec: Spec,
    out_dir: Path | None,
    use_notebook: bool,
    spec_dir: Path | None = None,
    check: bool = True,
    execute: Execute | None = None,
) -> Path:
    """One fresh run folder; returns its path. `check=False`: the caller has run `preflight` already.
    `execute(spec, run_dir)` runs it (default: `execute_run` in this process; launch.py: data-parallel workers)."""
    if check:
        preflight([spec])
    notebook = notebook_for(spec, spec_dir) if use_notebook else None
    run_dir = create_run_dir(out_dir or spec.run.out_dir, spec.name)
    log.info("run folder: %s", run_dir)
    write_resolved_spec(run_dir, spec)
    if execute is not None:
        execute(spec, run_dir)
        return run_dir
    return execute_run(spec, run_dir, notebook)


def run_spec(
    spec: Spec,
    out_dir: Path | None = None,
    use_notebook: bool = True,
    spec_dir: Path | None = None,
    execute: Execute | None = None,
) -> list[Path]:
    """Every run the spec asks for (a sweep gives several), then a comparison report when there are several.
    All runs are checked (`preflight`) before the first one starts; `execute` as in `run_one`."""
    specs = expand(spec)
    preflight(specs)
    if use_notebook:
        for s in specs:
            notebook_for(s, spec_dir)
    runs = [run_one(s, out_dir, use_notebook, spec_dir, check=False, execute=execute) for s in specs]
    if len(runs) > 1:
        path = write_sweep_report(Path(out_dir or spec.run.out_dir), spec.name, *compare(runs))
        print(f"sweep report: {path}")
    return runs


def resume_run(
    run_dir: Path,
    spec_path: str | Path | None = None,
    overrides: Sequence[str] = (),
    force: bool = False,
    use_notebook: bool | None = None,
) -> Path:
    """Continue an interrupted run in its own folder, training from its last complete checkpoint.

    The spec is the run's spec.yaml; SPEC / --set, when given, must equal it (`force` accepts changes).
    `use_notebook` None: the way the run started (run.json), through its notebook or the library.
    """
    from .resume import check_resumable, resume_spec

    run_dir = Path(run_dir).resolve()  # the notebook's kernel runs in the notebook's folder
    record = check_resumable(run_dir, force)
    if use_notebook is None:
        use_notebook = bool(record.get("notebook", True))
    spec, changes = resume_spec(run_dir, spec_path, overrides, force)
    preflight([spec])
    spec_dir = Path(spec_path).resolve().parent if spec_path is not None else None
    notebook = notebook_for(spec, spec_dir) if use_notebook else None
    removed = clear_leftovers(run_dir)
    if removed:
        log.info("removed what the interrupted run left half-written: %s", ", ".join(removed))
    if changes:
        write_resolved_spec(run_dir, spec)
    print(f"resuming run folder: {run_dir}", flush=True)
    extra = {"forced_changes": changes} if changes else {}
    return execute_run(spec, run_dir, notebook, resumed=True, **extra)

