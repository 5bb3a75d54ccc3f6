"""spec -> run folder(s): execute the method's teaching notebook with papermill, or the pipeline directly."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from .errors import SeqlabError
from .pipelines import for_method
from .pipelines.common import summary_lines, write_resolved_spec
from .rundir import RUN_FILES, create_run_dir, read_json
from .spec import Spec
from .sweep import expand

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = {
    "encoder": "01_encoder_baseline.ipynb",
    "unmask": "03_decoder_unmasking.ipynb",
    "sift": "04_sift_response_losses.ipynb",
    "oie-multitask": "02_oie_domain_transfer.ipynb",
}
EXIT_NOTEBOOK_FAILED = 3


class NotebookFailed(SeqlabError):
    """A notebook cell raised: names the cell and its error; the executed notebook stays in the run folder."""

    exit_code = EXIT_NOTEBOOK_FAILED


def notebook_for(spec: Spec, spec_dir: Path | None = None) -> Path:
    if spec.run.notebook:
        p = Path(spec.run.notebook)
        if not p.is_absolute() and spec_dir is not None and (spec_dir / p).exists():
            p = spec_dir / p
        elif not p.is_absolute():
            p = REPO / p
    else:
        p = REPO / "notebooks" / NOTEBOOKS[spec.method.name]
    if not p.exists():
        raise SeqlabError(f"run.notebook: {p} does not exist; fix the path or use --no-notebook")
    return p


def execute_notebook(spec: Spec, run_dir: Path, notebook: Path) -> None:
    """papermill: the resolved spec goes into the `parameters` cell; outputs stream to this terminal."""
    import papermill as pm

    out = run_dir / RUN_FILES["notebook"]
    try:
        pm.execute_notebook(
            str(notebook),
            str(out),
            parameters={"spec": spec.model_dump(mode="json"), "run_dir": str(run_dir), "solutions": spec.run.solutions},
            log_output=True,
            progress_bar=False,
            kernel_name="python3",
            cwd=str(notebook.parent),
        )
    except pm.PapermillExecutionError as e:
        raise NotebookFailed(
            f"notebook cell {e.exec_count} failed: {e.ename}: {e.evalue} (executed notebook: {out})"
        ) from None


def run_one(spec: Spec, out_dir: Path | None, use_notebook: bool, spec_dir: Path | None = None) -> Path:
    """One run folder; returns its path."""
    run_dir = create_run_dir(out_dir or spec.run.out_dir, spec.name)
    logging.getLogger("seqlab_spec").info("run folder: %s", run_dir)
    t0 = time.time()
    write_resolved_spec(run_dir, spec)
    if use_notebook:
        execute_notebook(spec, run_dir, notebook_for(spec, spec_dir))
    else:
        for_method(spec.method.name).run(spec, run_dir)
    metrics_path = run_dir / RUN_FILES["metrics"]
    if not metrics_path.exists():
        raise SeqlabError(f"the run finished without writing {metrics_path}")
    rows = [json.loads(line) for line in (run_dir / RUN_FILES["predictions"]).read_text().splitlines()]
    print(summary_lines(read_json(metrics_path), rows, spec.eval.show))
    print(f"run folder: {run_dir}  ({time.time() - t0:.0f} s)", flush=True)
    return run_dir


def run_spec(
    spec: Spec, out_dir: Path | None = None, use_notebook: bool = True, spec_dir: Path | None = None
) -> list[Path]:
    """Every run the spec asks for (a sweep gives several), then a comparison report when there are several."""
    runs = [run_one(s, out_dir, use_notebook, spec_dir) for s in expand(spec)]
    if len(runs) > 1:
        from .report import write_sweep_report

        path = write_sweep_report(runs, Path(out_dir or spec.run.out_dir), spec.name)
        print(f"sweep report: {path}")
    return runs


def load_run(run_dir: Path) -> tuple[Spec, dict]:
    """The resolved spec and metrics of a finished run folder."""
    import yaml

    run_dir = Path(run_dir)
    spec_path = run_dir / RUN_FILES["spec"]
    if not spec_path.exists():
        raise SeqlabError(f"{run_dir} is not a run folder (no {RUN_FILES['spec']})")
    spec = Spec.model_validate(yaml.safe_load(spec_path.read_text()))
    metrics_path = run_dir / RUN_FILES["metrics"]
    metrics = read_json(metrics_path) if metrics_path.exists() else {}
    return spec, metrics
