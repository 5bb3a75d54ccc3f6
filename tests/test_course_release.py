"""assignment release: student notebooks with no reference code, checks kept, outputs cleared."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

import nbformat
import pytest

from seqlab_spec import cli
from seqlab_spec.course.cells import parameter_value, read_notebook, set_parameters, text
from seqlab_spec.course.release import (
    HEADER_ID,
    SMALL_OVERRIDES,
    STUB_TAG,
    merge_overrides,
    release,
    release_notebook,
    stub_source,
)
from seqlab_spec.errors import SeqlabError

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "course"
SHIPPED = sorted((ROOT / "notebooks").glob("*.ipynb"))


def build_fixture(name: str = "mini_course") -> nbformat.NotebookNode:
    """A fixture notebook from its percent-format source, through the project's own notebook builder."""
    spec = importlib.util.spec_from_file_location("notebook_build", ROOT / "notebooks" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return nbformat.reads(module.build(FIXTURES / f"{name}.py"), as_version=4)


def tagged(nb: nbformat.NotebookNode, tag: str) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if tag in c.metadata.get("tags", [])]


def solution_lines(nb: nbformat.NotebookNode) -> set[str]:
    """Lines only the reference solutions hold (a line also found elsewhere in the notebook is no leak)."""
    elsewhere = {
        ln.strip() for c in nb.cells if "solution" not in c.metadata.get("tags", []) for ln in text(c).splitlines()
    }
    lines = {ln.strip() for c in tagged(nb, "solution") for ln in text(c).splitlines()}
    return {ln for ln in lines if ln and ln != "if solutions:" and ln not in elsewhere}


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_release_every_shipped_notebook(path: Path, tmp_path: Path) -> None:
    original = read_notebook(path)
    [(target, rel)] = release([path], tmp_path)
    student = read_notebook(target)
    nbformat.validate(student)
    assert target == tmp_path / path.name
    # no reference code anywhere; one stub where each solution stood
    assert not tagged(student, "solution")
    assert len(tagged(student, STUB_TAG)) == len(tagged(original, "solution")) == rel.exercises
    leaked = solution_lines(original) & {ln.strip() for c in student.cells for ln in text(c).splitlines()}
    assert not leaked
    # self-checks kept as they were, in order
    assert [text(c) for c in tagged(student, "check")] == [text(c) for c in tagged(original, "check")]
    assert rel.checks == len(tagged(original, "check"))
    # nothing computed shows
    for cell in student.cells:
        if cell.cell_type == "code":
            assert (cell.outputs, cell.execution_count) == ([], None)
            assert "papermill" not in cell.metadata and "execution" not in cell.metadata
    # small defaults, a header, and the course metadata the grader reads
    [params] = tagged(student, "parameters")
    assert parameter_value(text(params), "solutions", "missing") is False
    assert student.cells[0].cell_type == "markdown" and student.cells[0].id == HEADER_ID
    assert "**Submit.**" in text(student.cells[0]) and "Colab" in text(student.cells[0])
    assert student.metadata["seqlab_course"] == {
        "notebook": path.stem,
        "version": "student",
        "checks": rel.checks,
    }


def test_release_of_the_real_01_notebook() -> None:
    """Structure only (executing 01 trains a model): each stub sits between the TODO cell and the check."""
    original = read_notebook(ROOT / "notebooks" / "01_encoder_baseline.ipynb")
    rel = release_notebook(original, "01_encoder_baseline")
    cells = rel.notebook.cells
    assert (rel.exercises, rel.checks, rel.warnings) == (2, 2, [])
    solution_ids = [c.id for c in tagged(original, "solution")]
    stubs = [i for i, c in enumerate(cells) if STUB_TAG in c.metadata.get("tags", [])]
    assert [cells[i].id for i in stubs] == solution_ids
    for n, i in enumerate(stubs, 1):
        assert "TODO" in text(cells[i - 1])
        assert "check" in cells[i + 1].metadata["tags"]
        first, *rest = text(cells[i]).splitlines()
        assert first.startswith(f"# Exercise {n} ") and first.endswith(": your solution goes in the cell above.")
        assert "\n".join(rest) == "\n".join(stub_source("X", True).splitlines()[1:])
    [params] = tagged(rel.notebook, "parameters")
    [before] = tagged(original, "parameters")
    assert text(params) == text(before).replace(
        "overrides = []", "overrides = ['train.epochs=1', 'data.limit.train=1000']"
    )
    assert original.cells[0].id != HEADER_ID  # the source notebook is left as it was


def test_release_fixture_exactly() -> None:
    nb = build_fixture()
    rel = release_notebook(nb, "mini_course", overrides=["train.seed=8", "train.lr=0.001"])
    cells = {c.id: c for c in rel.notebook.cells}
    assert (rel.exercises, rel.checks, rel.warnings) == (3, 3, [])
    assert text(cells["mi-001"]) == (
        "spec = None\nspec_path = None\nrun_dir = None\n"
        "overrides = ['train.seed=8', 'train.epochs=1', 'data.limit.train=1000', 'train.lr=0.001']"
        "  # the notebook's own override: a release keeps it\n"
        "solutions = False  # True fills in the exercises with the reference solutions"
    )
    assert text(cells["mi-005"]) == (
        "# Exercise 1 · Add: your solution goes in the cell above.\n"
        "# (The reference solution that stood here is not part of the student version.)\n"
        "if solutions:\n"
        '    raise NotImplementedError("the student version has no reference solutions: "\n'
        '                              "set solutions = False")'
    )
    # no TODO cell above exercise 3: the stub is where the student writes
    assert text(cells["mi-012"]) == (
        "# Exercise 3 · Backwards: your solution goes in this cell.\n"
        "# TODO: write your solution here, then delete the line below.\n"
        "raise NotImplementedError('Exercise 3 · Backwards: write your solution in this cell')"
    )
    assert [c.id for c in rel.notebook.cells] == [HEADER_ID] + [c.id for c in nb.cells]
    assert "3 exercises and 3 self-checks" in text(rel.notebook.cells[0])


def test_release_of_an_executed_notebook_drops_outputs_and_injected_parameters() -> None:
    nb = build_fixture()
    executed = copy.deepcopy(nb)
    injected = nbformat.v4.new_code_cell("solutions = True\n")
    injected.metadata["tags"] = ["injected-parameters"]
    executed.cells.insert(2, injected)
    executed.metadata["papermill"] = {"parameters": {"solutions": True}}
    for cell in executed.cells:
        if cell.cell_type == "code":
            cell.execution_count = 3
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="✓ add(2, 3) == 5\n")]
            cell.metadata["papermill"] = {"status": "completed"}
    student = release_notebook(executed, "mini_course").notebook
    assert [c.id for c in student.cells] == [HEADER_ID] + [c.id for c in nb.cells]
    assert all(c.outputs == [] and c.execution_count is None for c in student.cells if c.cell_type == "code")
    assert "papermill" not in student.metadata
    assert all("papermill" not in c.metadata for c in student.cells)


def test_notebook_without_exercises_or_parameters_is_released_with_warnings() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Plain"), nbformat.v4.new_code_cell("x = 1")]
    rel = release_notebook(nb, "plain", overrides=["train.epochs=1"])
    assert rel.warnings == [
        "plain: no `solution` or `check` cells: released as is (nothing to grade)",
        "plain: no `parameters` cell: added one with solutions = False",
        "plain: no `overrides` parameter: --set ignored",
    ]
    assert [text(c) for c in rel.notebook.cells[1:]] == [
        "# Plain",
        "solutions = False  # the student version has no reference solutions",
        "x = 1",
    ]


def test_set_parameters_keeps_comments_and_appends_missing_names() -> None:
    source = 'a = 1  # one\nb = [\n    "x",\n]  # list\nsolutions = True'
    assert set_parameters(source, {"b": ["y"], "solutions": False, "c": None}) == (
        "a = 1  # one\nb = ['y']  # list\nsolutions = False\nc = None"
    )
    assert set_parameters("", {"solutions": False}) == "solutions = False"
    assert merge_overrides(["train.epochs=3", "x.y=1"], [*SMALL_OVERRIDES]) == [
        "train.epochs=1",
        "x.y=1",
        "data.limit.train=1000",
    ]
    with pytest.raises(SeqlabError, match=r"^--set 'epochs': expected KEY=VALUE, e.g. --set train.epochs=1$"):
        merge_overrides([], ["epochs"])


def test_cli_release_never_overwrites_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    quickstart = ROOT / "notebooks" / "00_quickstart.ipynb"
    fixture = tmp_path / "mini_course.ipynb"
    nbformat.write(build_fixture(), str(fixture))
    out = tmp_path / "student"
    assert cli.main(["assignment", "release", str(quickstart), str(fixture), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == (
        f"wrote {out / '00_quickstart.ipynb'}  (0 exercises, 0 checks)\n"
        f"wrote {out / 'mini_course.ipynb'}  (3 exercises, 3 checks)\n"
    )
    assert captured.err == "warning: 00_quickstart: no `solution` or `check` cells: released as is (nothing to grade)\n"
    before = (out / "mini_course.ipynb").read_text()
    assert cli.main(["assignment", "release", str(fixture), "--out", str(out)]) == 1
    assert capsys.readouterr().err == (
        f"error: {out / 'mini_course.ipynb'} exists; pass --force to overwrite it, or pick another --out folder\n"
    )
    assert (out / "mini_course.ipynb").read_text() == before
    args = [
        "assignment",
        "release",
        str(fixture),
        "--out",
        str(out),
        "--force",
        "--submit",
        "Upload it to Moodle.",
    ]
    assert cli.main(args) == 0
    assert "> **Submit.** Upload it to Moodle." in text(read_notebook(out / "mini_course.ipynb").cells[0])
    assert cli.main(["assignment", "release", str(fixture), "--out", str(tmp_path)]) == 1
    assert "would overwrite the source notebook" in capsys.readouterr().err
    missing = tmp_path / "nope.ipynb"
    assert cli.main(["assignment", "release", str(missing), "--out", str(out)]) == 1
    assert capsys.readouterr().err == f"error: {missing}: no such notebook; check the path\n"


def test_cli_release_sets_parameters(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fixture = tmp_path / "mini_course.ipynb"
    nbformat.write(build_fixture(), str(fixture))
    out = tmp_path / "student"
    args = ["assignment", "release", str(fixture), "--out", str(out), "--param", "spec_path=quickstart.yaml"]
    assert cli.main([*args, "--param", "seed=[1, 2]", "--set", "train.lr=0.01"]) == 0
    assert capsys.readouterr().err == ("warning: mini_course: the parameters cell had no `seed`: --param added it\n")
    [params] = tagged(read_notebook(out / "mini_course.ipynb"), "parameters")
    assert text(params) == (
        "spec = None\nspec_path = 'quickstart.yaml'\nrun_dir = None\n"
        "overrides = ['train.seed=7', 'train.epochs=1', 'data.limit.train=1000', 'train.lr=0.01']"
        "  # the notebook's own override: a release keeps it\n"
        "solutions = False  # True fills in the exercises with the reference solutions\n"
        "seed = [1, 2]"
    )
    assert cli.main([*args, "--force", "--param", "solutions=True"]) == 1
    assert capsys.readouterr().err == (
        "error: --param 'solutions=True': a student version never has solutions switched on\n"
    )
    assert cli.main([*args, "--force", "--param", "2x=1"]) == 1
    assert capsys.readouterr().err == (
        "error: --param '2x=1': expected NAME=VALUE, e.g. --param spec_path=specs/quickstart.yaml\n"
    )


def test_release_names_the_colab_source_once_in_every_notebook(tmp_path: Path, capsys) -> None:
    source = "git+https://example.org/course/seqlab-spec@v1"
    args = ["assignment", "release", *map(str, SHIPPED), "--out", str(tmp_path), "--colab-source", source]
    assert cli.main(args) == 0
    assert capsys.readouterr().err == (
        "warning: 00_quickstart: no `solution` or `check` cells: released as is (nothing to grade)\n"
    )
    for path in SHIPPED:
        setup = next(c for c in read_notebook(tmp_path / path.name).cells if c.cell_type == "code")
        lines = text(setup).splitlines()
        assert f"SEQLAB_SPEC_SOURCE = {source!r}" in lines and "SEQLAB_SPEC_SOURCE = None" not in lines
    fixture = tmp_path / "src" / "mini_course.ipynb"
    fixture.parent.mkdir()
    nbformat.write(build_fixture(), str(fixture))
    assert cli.main(["assignment", "release", str(fixture), "--out", str(tmp_path / "o"), "--colab-source", "x"]) == 0
    assert capsys.readouterr().err == (
        "warning: mini_course: no Colab set-up cell (`SEQLAB_SPEC_SOURCE = None`): --colab-source ignored\n"
    )
