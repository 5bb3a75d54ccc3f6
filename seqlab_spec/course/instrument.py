"""Which cells of a submission are its checks, and the copy of it that grading executes.

With a reference notebook (the released student version, or the source notebook) the checks and their
code come from the reference, matched to the submission by cell id, else by order: a student who edits or
deletes a check cannot make it pass. Without one, the submission's own `check` cells are graded.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from nbformat import NotebookNode

from .cells import CHECK, has_tag, text

GRADE_KEY = "seqlab_grade"


@dataclass
class PlannedCheck:
    """A check to score: its number (from 1), cell id, code, `points` metadata, and cell in the submission."""

    index: int
    cell_id: str | None
    source: str
    points_metadata: Any
    position: int | None  # index into the submission's cells; None: missing from the submission


def _check_cells(nb: NotebookNode) -> list[tuple[int, NotebookNode]]:
    return [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code" and has_tag(c, CHECK)]


def plan_checks(submission: NotebookNode, reference: NotebookNode | None = None) -> list[PlannedCheck]:
    """The checks to grade, in order."""
    own = _check_cells(submission)
    if reference is None:
        return [
            PlannedCheck(k, c.get("id"), text(c), c.metadata.get("points"), pos)
            for k, (pos, c) in enumerate(own, 1)
        ]
    ref = _check_cells(reference)
    ref_ids = {c.get("id") for _, c in ref} - {None}
    by_id = {c.get("id"): i for i, c in enumerate(submission.cells) if c.cell_type == "code" and c.get("id")}
    used: set[int] = set()
    planned = []
    for k, (_, rc) in enumerate(ref, 1):
        pos = by_id.get(rc.get("id")) if rc.get("id") else None
        if pos is None and k <= len(own):
            cand, cell = own[k - 1]
            if cand not in used and cell.get("id") not in ref_ids:
                pos = cand
        if pos is not None and pos in used:
            pos = None
        if pos is not None:
            used.add(pos)
        planned.append(PlannedCheck(k, rc.get("id"), text(rc), rc.metadata.get("points"), pos))
    return planned


def check_code(source: str, nonce: str, index: int) -> str:
    """What a check cell runs under grading: its code, inside the probe that records the outcome."""
    return (
        f"# Graded by seqlab-spec: check {index} runs inside run_check, which shows its outcome below.\n"
        "from seqlab_spec.course.probe import run_check as _seqlab_run_check\n\n"
        f"_seqlab_run_check(get_ipython(), {nonce!r}, {index}, {source!r})"
    )


def instrument(submission: NotebookNode, checks: list[PlannedCheck], nonce: str) -> NotebookNode:
    """A copy to execute: every cell remembers its position; check cells run through the probe."""
    nb = copy.deepcopy(submission)
    for pos, cell in enumerate(nb.cells):
        cell.metadata[GRADE_KEY] = {"cell": pos}
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    for check in checks:
        if check.position is not None:
            nb.cells[check.position].source = check_code(check.source, nonce, check.index)
    return nb
