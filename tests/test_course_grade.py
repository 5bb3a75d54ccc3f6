"""assignment grade: every check scored, broken submissions (syntax error, endless loop, dead kernel,
exception, tampering, garbage) scored zero where unreached, with the reason, and the batch goes on."""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from seqlab_spec import cli
from seqlab_spec.commands.assignment import load_params
from seqlab_spec.course.cells import read_notebook
from seqlab_spec.course.execute import descendants, execute
from seqlab_spec.course.grade import labels_for
from seqlab_spec.course.instrument import plan_checks
from seqlab_spec.course.points import load_points, points_for, unknown_keys
from seqlab_spec.course.release import release_notebook
from seqlab_spec.errors import SeqlabError

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "course"
SUBMISSIONS = {k: v for k, v in json.loads((FIXTURES / "submissions.json").read_text()).items() if k[0] != "_"}


def build_fixture() -> nbformat.NotebookNode:
    """mini_course built by notebooks/build.py; its second check is worth 4 points by cell metadata."""
    spec = importlib.util.spec_from_file_location("notebook_build", ROOT / "notebooks" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    nb = nbformat.reads(module.build(FIXTURES / "mini_course.py"), as_version=4)
    next(c for c in nb.cells if c.id == "mi-010").metadata["points"] = 4
    return nb


def submission(released: nbformat.NotebookNode, edits: dict[str, str]) -> nbformat.NotebookNode:
    """What a student hands in: the released notebook with some cells rewritten."""
    nb = copy.deepcopy(released)
    for cell in nb.cells:
        if cell.get("id") in edits:
            cell.source = edits[cell.id]
    return nb


@pytest.mark.slow  # one kernel
def test_fixture_checks_pass_with_solutions(tmp_path: Path) -> None:
    out = tmp_path / "executed.ipynb"
    nbformat.write(build_fixture(), str(tmp_path / "mini_course.ipynb"))
    pm.execute_notebook(
        str(tmp_path / "mini_course.ipynb"),
        str(out),
        parameters={"solutions": True},
        kernel_name="python3",
        progress_bar=False,
        cwd=str(tmp_path),
    )
    checks = [c for c in nbformat.read(str(out), as_version=4).cells if "check" in c.metadata.get("tags", [])]
    printed = ["".join(o.get("text", "") for o in c.outputs) for c in checks]
    assert printed == ["✓ add(2, 3) == 5\n✓ add(-1, 1) == 0\n", "✓ two spans\n", "✓ backwards reverses\n"]


@pytest.mark.slow  # nine submissions, eight kernels, one 5 s timeout (two at a time)
def test_grade_a_batch_of_submissions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    released = release_notebook(build_fixture(), "mini_course").notebook
    reference = tmp_path / "mini_course.ipynb"
    nbformat.write(released, str(reference))
    subs = tmp_path / "subs"
    subs.mkdir()
    for name, edits in SUBMISSIONS.items():
        nbformat.write(submission(released, edits), str(subs / f"{name}.ipynb"))
    (subs / "garbage.ipynb").write_text("not a notebook")
    points = tmp_path / "points.json"
    points.write_text(json.dumps({"mini_course": {"1": 2, "mi-013": 3, "7": 1}}))
    out = tmp_path / "grades"
    args = ["assignment", "grade", str(subs), "--reference", str(reference), "--points", str(points)]
    assert cli.main([*args, "--timeout", "5", "--jobs", "2", "--out", str(out)]) == 0

    doc = json.loads((out / "grades.json").read_text())
    assert doc["settings"] == {
        "timeout": 5.0,
        "parameters": {},
        "points_file": str(points),
        "references": [str(reference)],
        "training": ["train.max_steps=4", "data.limit.train=64", "data.limit.dev=32", "data.limit.test=32"],
    }
    got = {
        g["label"]: (
            g["status"],
            g["score"],
            g["max"],
            [(c["passed"], c["earned"], c["message"]) for c in g["checks"]],
        )
        for g in doc["submissions"]
    }
    reasons = {g["label"]: g["reason"] for g in doc["submissions"]}
    stub = '("# Exercise 3 · Backwards: your solution goes ...")'
    unreached = {
        "syntax": 'not reached: cell 10 ("n_spans = = 2") raised SyntaxError: invalid syntax (line 1)',
        "loop": 'not reached: cell 10 ("import time") ran longer than the time limit of 5 s per cell '
        "(an endless loop?)",
        "dead": 'not reached: the kernel died in cell 10 ("import os") (out of memory, or the code exited Python)',
        "exception": 'not reached: cell 6 ("def add(a, b):") raised ZeroDivisionError: division by zero',
        "blank": f"not reached: cell 14 {stub} raised NotImplementedError: "
        "Exercise 3 · Backwards: write your solution in this cell",
    }
    ok1 = (True, 2, "✓ add(2, 3) == 5; ✓ add(-1, 1) == 0")
    ok2, ok3 = (True, 4, "✓ two spans"), (True, 3, "✓ backwards reverses")
    assert got == {
        "blank": (
            "error",
            0,
            9,
            [
                (False, 0, "NotImplementedError: Exercise 1: add two numbers"),
                (False, 0, "not yet: two spans"),
                (False, 0, unreached["blank"]),
            ],
        ),
        "correct": ("completed", 9, 9, [ok1, ok2, ok3]),
        "dead": ("kernel-died", 2, 9, [ok1, (False, 0, unreached["dead"]), (False, 0, unreached["dead"])]),
        "exception": ("error", 0, 9, [(False, 0, unreached["exception"])] * 3),
        "garbage": ("invalid", 0, 9, [(False, 0, "not reached: " + reasons["garbage"])] * 3),
        "loop": ("timeout", 2, 9, [ok1, (False, 0, unreached["loop"]), (False, 0, unreached["loop"])]),
        "syntax": ("error", 2, 9, [ok1, (False, 0, unreached["syntax"]), (False, 0, unreached["syntax"])]),
        # the edited check runs as released, and a redefined `check` is the library's again
        "tamper": (
            "completed",
            3,
            9,
            [(False, 0, "not yet: add(2, 3) == 5"), (False, 0, "not yet: two spans"), ok3],
        ),
        "wrong": ("completed", 7, 9, [(False, 0, "not yet: add(2, 3) == 5"), ok2, ok3]),
    }
    assert reasons["garbage"].startswith(f"{subs / 'garbage.ipynb'}: not a readable Jupyter notebook (NotJSONError")
    assert [c["cell_id"] for c in doc["submissions"][0]["checks"]] == ["mi-006", "mi-010", "mi-013"]
    assert [c["points"] for c in doc["submissions"][0]["checks"]] == [2, 4, 3]

    captured = capsys.readouterr()
    assert captured.err == f"warning: {points}: mini_course -> 7 names no check\n"
    lines = [re.sub(r"  \d+\.\d s", "", line) for line in captured.out.splitlines()]  # each one's seconds
    assert lines[-1] == f"grades: {out / 'grades.json'}; feedback: {out / 'feedback'}"
    assert sorted(lines[:-1])[:3] == [
        "blank: 0/9  error  (" + reasons["blank"] + ")",
        "correct: 9/9  completed",
        "dead: 2/9  kernel-died  (" + reasons["dead"] + ")",
    ]
    assert sorted(p.name for p in (out / "feedback").iterdir()) == sorted(f"{n}.md" for n in got)
    assert sorted(p.stem for p in (out / "graded").iterdir()) == sorted(set(got) - {"garbage"})
    assert (out / "feedback" / "wrong.md").read_text() == (
        "# mini_course: feedback for wrong\n\n"
        "**Score: 7 / 9**. Your notebook ran to the end.\n\n"
        "| check | result | points | details |\n|---|---|---|---|\n"
        "| 1 | ✗ failed | 0 / 2 | not yet: add(2, 3) == 5 |\n"
        "| 2 | ✓ passed | 4 / 4 | ✓ two spans |\n"
        "| 3 | ✓ passed | 3 / 3 | ✓ backwards reverses |\n"
    )
    assert "Checks marked *not reached* never ran." in (out / "feedback" / "loop.md").read_text()
    # results are never overwritten by accident
    assert cli.main([*args, "--out", str(out)]) == 1
    assert capsys.readouterr().err == (
        f"error: {out / 'grades.json'} exists; pass --force to overwrite it, or pick another --out\n"
    )


def test_checks_without_a_reference_are_the_submissions_own() -> None:
    released = release_notebook(build_fixture(), "mini_course").notebook
    tampered = submission(released, SUBMISSIONS["tamper"])
    del tampered.cells[-1]  # the student deleted the last check
    own = plan_checks(tampered)
    assert [(c.index, c.cell_id, c.source, c.points_metadata) for c in own] == [
        (1, "mi-006", 'check(True, "add(2, 3) == 5")', None),
        (2, "mi-010", 'check(n_spans == 2, "two spans")', 4),
    ]
    against = plan_checks(tampered, released)
    assert [(c.index, c.source.splitlines()[0], c.position) for c in against] == [
        (1, 'check(add(2, 3) == 5, "add(2, 3) == 5")', 7),
        (2, 'check(n_spans == 2, "two spans")', 11),
        (3, 'check(backwards(["a", "b", "c"]) == ["c", "b", "a"], "backwards reverses")', None),
    ]
    # cell ids lost (an older notebook format): matched by order
    for cell in tampered.cells:
        cell.pop("id", None)
    assert [c.position for c in plan_checks(tampered, released)] == [7, 11, None]


def test_points_precedence_and_errors(tmp_path: Path) -> None:
    table = {"nb": {"mi-006": 5.0, "1": 7.0, "2": 0.5}, "*": {"3": 2.0, "1": 9.0}}
    assert points_for(table, "nb", 1, "mi-006", 4) == 5.0  # cell id before check number
    assert points_for(table, "nb", 2, "x", 4) == 0.5
    assert points_for(table, "nb", 3, "x", 4) == 2.0  # "*" after the notebook's own section
    assert points_for(table, "other", 1, None, None) == 9.0
    assert points_for(table, "other", 4, None, 4) == 4.0  # then cell metadata
    assert points_for(None, "other", 4, None, "lots") == 1.0  # then 1
    assert unknown_keys(table, "nb", [(1, "mi-006"), (2, "mi-010")]) == []
    assert unknown_keys({"nb": {"7": 1.0}}, "nb", [(1, "a")]) == ["7"]
    bad = tmp_path / "points.json"
    bad.write_text('{"nb": {"1": 2,}}')
    with pytest.raises(SeqlabError, match=r"points\.json:1:16: not valid JSON \(Expecting property name"):
        load_points(bad)
    bad.write_text('{"nb": {"1": -2}}')
    with pytest.raises(SeqlabError, match=r"points\.json: nb -> 1: points must be a number >= 0 \(got -2\)$"):
        load_points(bad)
    bad.write_text('{"nb": [1, 2]}')
    with pytest.raises(SeqlabError, match=r"'nb' should map check numbers or cell ids to points"):
        load_points(bad)
    good = tmp_path / "good.json"
    good.write_text('{"nb": {"1": 2}, "*": {"mi-1": 0.5}}')
    assert load_points(good) == {"nb": {"1": 2.0}, "*": {"mi-1": 0.5}}


def test_parameters_file(tmp_path: Path) -> None:
    path = tmp_path / "params.yaml"
    path.write_text("spec_path: /data/tiny.yaml\nsolutions: false\n")
    assert load_params(path) == {"spec_path": "/data/tiny.yaml", "solutions": False}
    path.write_text("solutions: true\n")
    with pytest.raises(SeqlabError, match=r"solutions: true would grade the reference solutions; remove it$"):
        load_params(path)
    path.write_text("- a\n- b\n")
    with pytest.raises(SeqlabError, match=r"expected a mapping of parameter names to values"):
        load_params(path)
    path.write_text("a: [1\n")
    with pytest.raises(SeqlabError, match=r"params\.yaml:2:1: not valid YAML/JSON"):
        load_params(path)


def test_labels_are_unique_and_short() -> None:
    paths = [Path("alice/01.ipynb"), Path("bob/01.ipynb"), Path("carol.ipynb"), Path("x/bob/01.ipynb")]
    assert labels_for(paths) == ["alice_01", "bob_01", "carol", "bob_01-2"]


def _alive(pid: int) -> bool:
    """Whether `pid` still runs (a zombie waiting to be reaped counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.mark.slow  # one kernel, stopped after 3 s
def test_the_overall_limit_kills_the_worker_and_its_kernel(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell("import os\n\nopen('kernel.pid', 'w').write(str(os.getpid()))"),
        nbformat.v4.new_code_cell("import time\n\nwhile True:\n    time.sleep(0.01)"),
    ]
    nbformat.write(nb, str(tmp_path / "in.ipynb"))
    (tmp_path / "cwd").mkdir()
    status = execute(
        tmp_path / "in.ipynb",
        tmp_path / "out.ipynb",
        {},
        cwd=tmp_path / "cwd",
        timeout=60,
        hard_limit=4,
        workdir=tmp_path,
    )
    assert status == {"outcome": "killed", "limit": 4}
    pid = int((tmp_path / "cwd" / "kernel.pid").read_text())
    deadline = time.time() + 5
    while _alive(pid) and time.time() < deadline:
        time.sleep(0.1)
    assert not _alive(pid)


def test_descendants_finds_the_whole_process_tree() -> None:
    proc = subprocess.Popen(["sh", "-c", "sleep 30 & sleep 30 & wait"])
    try:
        deadline = time.time() + 5
        while len(descendants(proc.pid)) < 2 and time.time() < deadline:
            time.sleep(0.05)
        kids = descendants(proc.pid)
        names = sorted(Path(f"/proc/{k}/comm").read_text().strip() for k in kids)
        assert names == ["sleep", "sleep"]
    finally:
        for pid in descendants(proc.pid):
            os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=5)
    assert descendants(proc.pid) == []


@pytest.mark.slow  # three kernels, each trains notebook 01's model for the grading profile's few steps
def test_grade_the_real_01_from_a_course_folder_gives_the_true_scores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An instructor's folder with nothing of the project in it: the notebook finds its default spec inside the
    installed package, and the default (fast) training keeps each submission to seconds."""
    course = tmp_path / "course"
    course.mkdir()
    monkeypatch.chdir(course)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert (
        cli.main(["assignment", "release", str(ROOT / "notebooks" / "01_encoder_baseline.ipynb"), "--out", "handout"])
        == 0
    )
    released = read_notebook(course / "handout" / "01_encoder_baseline.ipynb")
    todo = {
        n: next(c.id for c in released.cells if c.cell_type == "code" and c.source.startswith(start))
        for n, start in [(1, "def iob1_to_bio"), (2, "# TODO: set my_f1")]
    }
    iob1 = (
        "def iob1_to_bio(tags):\n    out, prev = [], 'O'\n    for tag in tags:\n"
        "        if tag.startswith('I-') and (prev == 'O' or prev[2:] != tag[2:]):\n            tag = 'B-' + tag[2:]\n"
        "        out.append(tag)\n        prev = tag\n    return out"
    )
    (course / "subs").mkdir()
    for name, edits in {
        "correct": {todo[1]: iob1, todo[2]: "my_f1 = 1 / 3"},
        "wrong": {todo[1]: iob1, todo[2]: "my_f1 = 0.5"},
        "broken": {todo[1]: "def iob1_to_bio(tags) return tags", todo[2]: "my_f1 = 1 / 3"},
    }.items():
        nbformat.write(submission(released, edits), str(course / "subs" / f"{name}.ipynb"))
    capsys.readouterr()
    args = ["assignment", "grade", "subs", "--reference", "handout/01_encoder_baseline.ipynb", "--timeout", "240"]
    assert cli.main(args) == 0
    doc = json.loads((course / "grades" / "grades.json").read_text())
    got = {g["label"]: (g["status"], g["score"], g["max"]) for g in doc["submissions"]}
    assert got == {"broken": ("error", 0, 2), "correct": ("completed", 2, 2), "wrong": ("completed", 1, 2)}
    broken = next(g for g in doc["submissions"] if g["label"] == "broken")
    assert "raised SyntaxError: invalid syntax" in broken["reason"] or "raised SyntaxError" in broken["reason"]
    assert doc["settings"]["training"] == [
        "train.max_steps=4",
        "data.limit.train=64",
        "data.limit.dev=32",
        "data.limit.test=32",
    ]
    lines = sorted(capsys.readouterr().out.splitlines()[:-1])
    assert [re.sub(r"  \d+\.\d s", "  T s", line.split("  (")[0]) for line in lines] == [
        "broken: 0/2  error  T s",
        "correct: 2/2  completed  T s",
        "wrong: 1/2  completed  T s",
    ]
    assert sorted(p.name for p in course.iterdir()) == ["grades", "handout", "subs"]
