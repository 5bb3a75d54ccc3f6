"""A notebook cell that raises: exit code 3, one error line naming the cell and its error, and the executed
notebook (with the failing cell's traceback) kept in the run folder, marked failed in run.json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, TINY

FAILING = ROOT / "tests" / "fixtures" / "failing_notebook.ipynb"


@pytest.mark.slow
def test_failing_cell_exit_3_one_line_and_the_notebook_stays(tmp_path: Path) -> None:
    sets = [a for s in [*TINY, f"run.notebook={FAILING}"] for a in ("--set", s)]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "seqlab_spec.cli",
            "run",
            str(ROOT / "specs" / "quickstart.yaml"),
            "--out",
            str(tmp_path),
            *sets,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        timeout=300,
    )
    assert proc.returncode == 3, proc.stderr[-3000:]
    (run_dir,) = tmp_path.iterdir()
    notebook = run_dir / "notebook.ipynb"
    error_lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    # In [1]: the parameters cell, [2]: papermill's injected parameters, [3]: answer = 41, [4]: the raise
    assert error_lines == [
        'error: notebook cell In [4] failed (`raise ValueError(f"the answer is {answer}, not 42\\nsecond line of '
        'the message")`): ValueError: the answer is 41, not 42; second line of the message (executed notebook '
        f"with the error: {notebook})"
    ]
    assert proc.stderr.rstrip().endswith(error_lines[0])  # the last thing the user reads

    # the executed notebook, whole, under its final name; the failing cell holds the error, the next did not run
    assert sorted(p.name for p in run_dir.iterdir()) == ["notebook.ipynb", "run.json", "spec.yaml"]
    nb = nbformat.read(notebook, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    failing = next(c for c in code if c.source.startswith("raise ValueError"))
    assert failing.execution_count == 4
    assert [(o.output_type, o.get("ename"), o.get("evalue")) for o in failing.outputs] == [
        ("error", "ValueError", "the answer is 41, not 42\nsecond line of the message")
    ]
    assert code[-1].source == 'print("never reached")' and code[-1].execution_count is None

    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "failed" and record["notebook"] is True
    assert record["attempts"][-1]["status"] == "failed"
    assert record["attempts"][-1]["error"].startswith("NotebookFailed: notebook cell In [4] failed")


def test_a_missing_notebook_fails_before_any_run_folder(tmp_path: Path, capsys) -> None:
    from seqlab_spec.cli import main

    missing = tmp_path / "nowhere.ipynb"
    code = main(
        [
            "run",
            str(ROOT / "specs" / "quickstart.yaml"),
            "--out",
            str(tmp_path / "runs"),
            "--set",
            f"run.notebook={missing}",
            *[a for s in TINY for a in ("--set", s)],
        ]
    )
    assert code == 1
    assert capsys.readouterr().err.strip() == (
        f"error: run.notebook: {missing} does not exist; fix the path or use --no-notebook"
    )
    assert not (tmp_path / "runs").exists()
