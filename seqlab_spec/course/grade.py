"""Grade submitted notebooks: run each in a fresh kernel, score every check, never let one stop the batch.

A submission is executed (papermill, per-cell timeout) in a process of its own, from a copy in which each
`check` cell records its outcome instead of raising. The outcomes are read back from the executed notebook;
checks the run never reached (an exception outside a check, a timeout, a dead kernel) score zero, with
the reason.
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from ..errors import SeqlabError
from .cells import parameter_names, parameter_value, parameters_index, read_notebook, text
from .execute import execute
from .instrument import GRADE_KEY, PlannedCheck, instrument, plan_checks
from .points import PointsTable, points_for
from .probe import MIME
from .release import GRADING_OVERRIDES, SMALL_OVERRIDES, merge_overrides


@dataclass
class CheckResult:
    index: int
    cell_id: str | None
    passed: bool
    points: float
    earned: float
    message: str


@dataclass
class Grade:
    """One submission's result, as written to grades.json."""

    submission: str
    label: str
    notebook: str
    status: str
    reason: str
    score: float
    max: float
    checks: list[CheckResult] = field(default_factory=list)
    seconds: float = 0.0  # wall time to grade it

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Settings:
    """How every submission in a batch is run and scored."""

    timeout: float = 300.0
    parameters: dict[str, Any] = field(default_factory=dict)
    points: PointsTable | None = None
    references: dict[str, NotebookNode] = field(default_factory=dict)
    kernel: str = "python3"
    # spec overrides for the notebook's training, on top of its own `overrides` parameter
    training: tuple[str, ...] = GRADING_OVERRIDES


def notebook_name(nb: NotebookNode | None, path: Path) -> str:
    """The course notebook a file is (release metadata, else the file name)."""
    meta = (nb.metadata.get("seqlab_course", {}) if nb is not None else {}) or {}
    name = meta.get("notebook") if isinstance(meta, dict) else None
    return str(name) if name else path.stem


def match_reference(name: str, path: Path, references: dict[str, NotebookNode]) -> str | None:
    """The submission's reference: same name, else one whose name is in the file name, else the only one."""
    if name in references:
        return name
    inside = sorted((r for r in references if r in path.stem), key=len, reverse=True)
    if inside:
        return inside[0]
    return next(iter(references)) if len(references) == 1 else None


def grading_parameters(
    nb: NotebookNode, given: dict[str, Any], run_dir: Path, training: tuple[str, ...] = GRADING_OVERRIDES
) -> dict[str, Any]:
    """What papermill injects: the parameters file, solutions=False, a private run folder, and the notebook's
    own `overrides` with the small release ones and then `training` (later wins) where it has that parameter."""
    idx = parameters_index(nb)
    source = text(nb.cells[idx]) if idx is not None else ""
    names = parameter_names(source)
    values = dict(given)
    values["solutions"] = False
    if "run_dir" in names and "run_dir" not in given:
        values["run_dir"] = str(run_dir)
    if "overrides" in names and "overrides" not in given:
        own = parameter_value(source, "overrides", [])
        values["overrides"] = merge_overrides([str(o) for o in own or []], [*SMALL_OVERRIDES, *training])
    return values


# IPython names a cell's code after a temporary file ("invalid syntax (877675485.py, line 1)"): noise here.
_CELL_FILE = re.compile(r"\((?:\d+\.py|<[^>]*>), line (\d+)\)")


def _clean_error(text: str) -> str:
    return _CELL_FILE.sub(r"(line \1)", text)


def _where(nb: NotebookNode, pos: int) -> str:
    """`cell 12 ("def add(a, b):")`: the 1-based position and first line a student can find."""
    first = next((ln.strip() for ln in text(nb.cells[pos]).splitlines() if ln.strip()), "")
    first = first if len(first) <= 48 else first[:45] + "..."
    return f'cell {pos + 1} ("{first}")' if first else f"cell {pos + 1}"


def _cells_by_position(executed: NotebookNode | None) -> dict[int, NotebookNode]:
    if executed is None:
        return {}
    return {
        c.metadata[GRADE_KEY]["cell"]: c
        for c in executed.cells
        if isinstance(c.metadata.get(GRADE_KEY), dict) and "cell" in c.metadata[GRADE_KEY]
    }


def stop_reason(
    status: dict[str, Any], submission: NotebookNode, executed: NotebookNode | None, timeout: float
) -> str:
    """Why the run ended before the last cell, in words a student can act on ('' when it ran to the end)."""
    outcome = status.get("outcome")
    cells = _cells_by_position(executed)
    started = [p for p, c in sorted(cells.items()) if (c.metadata.get("papermill") or {}).get("start_time")]
    last = _where(submission, started[-1]) if started else "the first cell"
    if outcome == "completed":
        return ""
    if outcome == "error":
        failed = next(
            (
                p
                for p, c in sorted(cells.items())
                if any(o.get("output_type") == "error" for o in c.get("outputs", []))
            ),
            None,
        )
        where = _where(submission, failed) if failed is not None else last
        return f"{where} raised {status.get('ename')}: {_clean_error(str(status.get('evalue')))}".rstrip(": ")
    if outcome == "timeout":
        return f"{last} ran longer than the time limit of {timeout:g} s per cell (an endless loop?)"
    if outcome == "kernel-died":
        return f"the kernel died in {last} (out of memory, or the code exited Python)"
    if outcome == "killed":
        return f"the grader stopped it after {status.get('limit'):g} s in all"
    return f"the grader could not run it: {status.get('ename')}: {status.get('evalue')}"


def _outcome(cell: NotebookNode | None, nonce: str, index: int) -> dict[str, Any] | None:
    """The probe's record in a check cell's outputs (matching this run's nonce), if the cell ran."""
    for output in reversed((cell or {}).get("outputs", [])):
        data = output.get("data", {}).get(MIME) if output.get("output_type") == "display_data" else None
        if isinstance(data, dict) and data.get("nonce") == nonce and data.get("index") == index:
            return data
    return None


def score_checks(
    checks: list[PlannedCheck],
    executed: NotebookNode | None,
    nonce: str,
    reason: str,
    points: Callable[[PlannedCheck], float],
) -> list[CheckResult]:
    """One result per planned check; a check without a recorded outcome fails with `reason`."""
    cells = _cells_by_position(executed)
    results = []
    for check in checks:
        worth = points(check)
        if check.position is None:
            passed, message = False, "the check cell is missing from the submission (deleted?)"
        else:
            record = _outcome(cells.get(check.position), nonce, check.index)
            if record is None:
                passed, message = False, f"not reached: {reason or 'the check recorded no outcome'}"
            else:
                passed, message = bool(record.get("passed")), str(record.get("message", ""))
        results.append(
            CheckResult(check.index, check.cell_id, passed, worth, worth if passed else 0.0, message)
        )
    return results


def grade_submission(path: Path, label: str, settings: Settings, graded_copy: Path | None = None) -> Grade:
    """Grade one submitted notebook (never raises for a broken submission)."""
    path = Path(path)
    try:
        nb = read_notebook(path)
    except SeqlabError as exc:
        nb, invalid = None, str(exc)
    else:
        invalid = ""
    name = notebook_name(nb, path)
    reference = None
    if settings.references:
        ref_name = match_reference(name, path, settings.references)
        if ref_name is None:
            known = ", ".join(sorted(settings.references))
            return Grade(
                str(path), label, name, "no-reference", f"matches none of the references ({known})", 0, 0
            )
        name, reference = ref_name, settings.references[ref_name]

    def worth(check: PlannedCheck) -> float:
        return points_for(settings.points, name, check.index, check.cell_id, check.points_metadata)

    if nb is None:
        unrun = plan_checks(reference) if reference is not None else []
        results = [
            CheckResult(c.index, c.cell_id, False, worth(c), 0.0, f"not reached: {invalid}") for c in unrun
        ]
        return _total(Grade(str(path), label, name, "invalid", invalid, 0, 0, results))
    checks = plan_checks(nb, reference)
    nonce = secrets.token_hex(12)
    with tempfile.TemporaryDirectory(prefix="seqlab-grade-") as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "cwd").mkdir()
        prepared, executed_path = tmp_path / "prepared.ipynb", tmp_path / "executed.ipynb"
        nbformat.write(instrument(nb, checks, nonce), str(prepared))
        code_cells = sum(1 for c in nb.cells if c.cell_type == "code")
        status = execute(
            prepared,
            executed_path,
            grading_parameters(nb, settings.parameters, tmp_path / "run", settings.training),
            cwd=tmp_path / "cwd",
            timeout=settings.timeout,
            hard_limit=settings.timeout * (code_cells + 2) + 120,
            kernel=settings.kernel,
            workdir=tmp_path,
        )
        executed = nbformat.read(str(executed_path), as_version=4) if executed_path.exists() else None
        if executed is not None and graded_copy is not None:
            graded_copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(executed_path, graded_copy)
    reason = stop_reason(status, nb, executed, settings.timeout)
    results = score_checks(checks, executed, nonce, reason, worth)
    return _total(Grade(str(path), label, name, str(status.get("outcome")), reason, 0, 0, results))


def _total(grade: Grade) -> Grade:
    grade.score = sum(c.earned for c in grade.checks)
    grade.max = sum(c.points for c in grade.checks)
    return grade


def labels_for(paths: list[Path]) -> list[str]:
    """A short unique name per submission: the file stem, or folder_stem when stems repeat."""
    stems = [p.stem for p in paths]
    labels = [s if stems.count(s) == 1 else f"{p.parent.name}_{s}" for p, s in zip(paths, stems, strict=True)]
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        unique.append(label if seen[label] == 1 else f"{label}-{seen[label]}")
    return unique


def grade_all(
    paths: list[Path],
    settings: Settings,
    graded_dir: Path | None = None,
    jobs: int = 1,
    on_done: Callable[[Grade], None] | None = None,
) -> list[Grade]:
    """Grade every submission (`jobs` at a time), in the order given."""
    paths = [Path(p) for p in paths]
    labels = labels_for(paths)

    def one(item: tuple[Path, str]) -> Grade:
        path, label = item
        copy_to = graded_dir / f"{label}.ipynb" if graded_dir is not None else None
        start = time.perf_counter()
        try:
            grade = grade_submission(path, label, settings, copy_to)
        except Exception as exc:  # noqa: BLE001 - a grader bug on one file must not cost the batch
            reason = f"the grader failed on it: {type(exc).__name__}: {exc}"
            grade = Grade(str(path), label, path.stem, "crashed", reason, 0, 0)
        grade.seconds = round(time.perf_counter() - start, 1)
        if on_done is not None:
            on_done(grade)
        return grade

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, zip(paths, labels, strict=True)))
