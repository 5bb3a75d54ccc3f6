"""What grading leaves behind: grades.json for the instructor, one short markdown file per student."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .grade import Grade

STATUS_WORDS = {
    "completed": "ran to the end",
    "error": "stopped at an error outside the self-checks",
    "timeout": "stopped: a cell ran past the time limit",
    "kernel-died": "stopped: the kernel died",
    "killed": "stopped by the grader's overall time limit",
    "crashed": "could not be run",
    "invalid": "not a readable notebook",
    "no-reference": "matched no reference notebook",
}


def _num(x: float) -> str:
    return f"{x:g}"


def feedback_markdown(grade: Grade) -> str:
    """A short note to the student: score, each check's result, and why the run stopped early if it did."""
    lines = [
        f"# {grade.notebook}: feedback for {grade.label}",
        "",
        f"**Score: {_num(grade.score)} / {_num(grade.max)}**. Your notebook "
        f"{STATUS_WORDS.get(grade.status, grade.status)}.",
    ]
    if grade.reason:
        lines += ["", f"Why: {grade.reason}."]
    if grade.checks:
        lines += ["", "| check | result | points | details |", "|---|---|---|---|"]
        for c in grade.checks:
            mark = "✓ passed" if c.passed else "✗ failed"
            details = c.message.replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {c.index} | {mark} | {_num(c.earned)} / {_num(c.points)} | {details} |")
    unreached = [c for c in grade.checks if c.message.startswith("not reached")]
    if unreached:
        lines += [
            "",
            "Checks marked *not reached* never ran. Restart the kernel and run all cells: the notebook "
            "has to run from top to bottom without an error outside the self-checks.",
        ]
    return "\n".join(lines) + "\n"


def write_results(grades: list[Grade], out_dir: Path, settings: dict[str, Any]) -> Path:
    """out_dir/grades.json and out_dir/feedback/<label>.md; returns the grades.json path."""
    out_dir = Path(out_dir)
    (out_dir / "feedback").mkdir(parents=True, exist_ok=True)
    for grade in grades:
        (out_dir / "feedback" / f"{grade.label}.md").write_text(feedback_markdown(grade), encoding="utf-8")
    path = out_dir / "grades.json"
    doc = {"settings": settings, "submissions": [g.to_json() for g in grades]}
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
