"""Runs inside the student's kernel during grading: one check cell's code, its outcome shown as cell output.

The grader rewrites each `check` cell to call `run_check`, so a failing check records a result instead of
stopping the notebook. The outcome goes to the cell's own output (a private MIME type carrying a per-run
nonce), which the grader reads from the executed notebook: student code never writes the grades.
Imports only the standard library and IPython at module level (it loads in every graded kernel).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

MIME = "application/vnd.seqlab.check+json"


@contextlib.contextmanager
def _recording_check(ns: dict[str, Any], passed: list[str]) -> Iterator[None]:
    """While the check runs, `check` (imported or already bound) is the library's, recording what passed.

    Rebinding also undoes a `check` the student may have redefined in an earlier cell.
    """
    from seqlab_spec import notebook

    real: Callable[[bool, str], None] = notebook.check

    def check(condition: bool, message: str) -> None:
        real(condition, message)
        passed.append(message)

    notebook.check = check  # type: ignore[assignment]
    ns["check"] = check
    try:
        yield
    finally:
        notebook.check = real  # type: ignore[assignment]
        if ns.get("check") is check:
            ns["check"] = real


def run_check(shell: Any, nonce: str, index: int, source: str) -> None:
    """Execute `source` (a check cell's code) in the user namespace and display its outcome."""
    from IPython.display import display

    ns = shell.user_ns
    passed: list[str] = []
    outcome: dict[str, Any]
    try:
        code = compile(shell.transform_cell(source), f"<check {index}>", "exec")
        with _recording_check(ns, passed):
            exec(code, ns)  # noqa: S102 - running the notebook's own check cell is the point
    except AssertionError as exc:
        outcome = {"passed": False, "message": str(exc) or "AssertionError (no message)"}
    except Exception as exc:  # noqa: BLE001 - any error inside a check fails that check only
        outcome = {"passed": False, "message": f"{type(exc).__name__}: {exc}"}
    else:
        outcome = {"passed": True, "message": "; ".join(f"✓ {m}" for m in passed) or "passed"}
    mark = "✓ passed" if outcome["passed"] else f"✗ {outcome['message']}"
    display(
        {MIME: {**outcome, "nonce": nonce, "index": index}, "text/plain": f"check {index}: {mark}"}, raw=True
    )
