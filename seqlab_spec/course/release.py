"""Student versions of the teaching notebooks: reference solutions out, self-checks in, outputs cleared.

Each cell tagged `solution` becomes a stub that names the exercise; where a `# TODO` cell sits above it
(the convention of notebooks/src/01_encoder_baseline.py), the stub only points there, otherwise it raises
NotImplementedError for the student to replace. The parameters cell gets CPU-small defaults.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from ..errors import SeqlabError
from .cells import (
    CHECK,
    INJECTED,
    SOLUTION,
    has_tag,
    parameter_names,
    parameter_value,
    parameters_index,
    read_notebook,
    set_parameters,
    text,
)

# Added to a notebook's own `overrides` (when its parameters cell has one): minutes on a 2-core CPU.
SMALL_OVERRIDES = ("train.epochs=1", "data.limit.train=1000")
# `assignment grade`'s default training (`--training fast`), added after those: the exercises check code, not
# the trained model's scores, so a few steps on a few sentences suffice (seconds per submission on a CPU
# instead of minutes). `--training as-released` keeps the student version's; `--set` adds the instructor's.
GRADING_OVERRIDES = ("train.max_steps=4", "data.limit.train=64", "data.limit.dev=32", "data.limit.test=32")
STUB_TAG = "solution-removed"
COLAB_SOURCE = "SEQLAB_SPEC_SOURCE = None"  # the line of the Colab set-up cell that --colab-source fills in
HEADER_ID = "student-header"
DEFAULT_SUBMIT = (
    "Restart the kernel and run all cells (Jupyter: *Kernel → Restart Kernel and Run All Cells*; "
    "Colab: *Runtime → Restart and run all*), check that it runs top to bottom, save, and hand in this "
    "`.ipynb` file (Colab: *File → Download → Download .ipynb*) where your instructor asked."
)


@dataclass
class Released:
    """One student notebook and what the instructor should hear about it."""

    notebook: NotebookNode
    exercises: int
    checks: int
    warnings: list[str] = field(default_factory=list)


def override_key(expr: str) -> str:
    return expr.partition("=")[0].strip()


def merge_overrides(base: list[str], extra: list[str]) -> list[str]:
    """`base` with each `key=value` of `extra` replacing the same key (or appended): later wins."""
    merged = {override_key(e): e for e in base}
    for expr in extra:
        if "=" not in expr or not override_key(expr):
            raise SeqlabError(f"--set {expr!r}: expected KEY=VALUE, e.g. --set train.epochs=1")
        merged[override_key(expr)] = expr
    return list(merged.values())


def _exercise_title(cells: list[NotebookNode], index: int, number: int) -> str:
    """The last heading of the nearest markdown cell above `index` (e.g. `Exercise 1 · IOB1 → BIO`)."""
    for cell in reversed(cells[:index]):
        if cell.cell_type == "markdown":
            headings = [ln.strip().lstrip("#").strip() for ln in text(cell).splitlines() if ln.startswith("#")]
            if headings:
                return headings[-1]
            break
    return f"Exercise {number}"


def _has_todo_above(cells: list[NotebookNode], index: int) -> bool:
    """Whether a student `# TODO` cell belongs to this exercise (code cells up to the markdown above)."""
    for cell in reversed(cells[:index]):
        if cell.cell_type != "code" or has_tag(cell, CHECK) or has_tag(cell, SOLUTION):
            return False
        body = text(cell)
        if "TODO" in body or "NotImplementedError" in body:
            return True
    return False


def stub_source(title: str, todo_above: bool) -> str:
    """The code that stands where a reference solution stood."""
    if todo_above:
        return (
            f"# {title}: your solution goes in the cell above.\n"
            "# (The reference solution that stood here is not part of the student version.)\n"
            "if solutions:\n"
            '    raise NotImplementedError("the student version has no reference solutions: "\n'
            '                              "set solutions = False")'
        )
    return (
        f"# {title}: your solution goes in this cell.\n"
        "# TODO: write your solution here, then delete the line below.\n"
        f"raise NotImplementedError({(title + ': write your solution in this cell')!r})"
    )


def header_markdown(name: str, exercises: int, checks: int, submit: str | None) -> str:
    return "\n".join(
        [
            f"> **Student version of `{name}`.** It has {exercises} exercise{'s' * (exercises != 1)} "
            f"and {checks} self-check{'s' * (checks != 1)}.",
            ">",
            "> **Run it.** *Jupyter*: with seqlab-spec installed, open this file and run the cells in order. "
            "*Colab*: upload it (*File → Upload notebook*); the first code cell installs the kit. A GPU "
            "(*Runtime → Change runtime type → T4 GPU*) makes training faster; on a CPU the notebook uses "
            "its CPU-size settings. Leave `solutions = False` in the parameters cell.",
            ">",
            "> **Exercises.** Write your code where a cell says `# TODO`. The cell after each exercise is a "
            "self-check: it prints ✓ when your answer is right, or stops with `AssertionError: not yet: ...` "
            "saying what to look at. Do not edit the self-check cells: grading runs them as released.",
            ">",
            f"> **Submit.** {submit or DEFAULT_SUBMIT}",
        ]
    )


def _clean(cell: NotebookNode) -> None:
    """No outputs, execution counts or run metadata: a release shows nothing computed."""
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None
    for key in ("papermill", "execution", "ExecuteTime", "collapsed", "scrolled"):
        cell.metadata.pop(key, None)


def release_notebook(
    nb: NotebookNode,
    name: str,
    overrides: list[str] | None = None,
    submit: str | None = None,
    params: dict[str, Any] | None = None,
    colab_source: str | None = None,
) -> Released:
    """The student version of `nb` (a fresh copy; `nb` is left as it was). `colab_source`: what the Colab
    set-up cell pip-installs the kit from (a requirement, git URL or wheel URL)."""
    nb = copy.deepcopy(nb)
    warnings: list[str] = []
    cells = [c for c in nb.cells if not has_tag(c, INJECTED)]
    out: list[NotebookNode] = []
    exercises = 0
    for i, cell in enumerate(cells):
        _clean(cell)
        if has_tag(cell, SOLUTION):
            exercises += 1
            title = _exercise_title(cells, i, exercises)
            stub = nbformat.v4.new_code_cell(stub_source(title, _has_todo_above(cells, i)))
            stub.metadata["tags"] = [STUB_TAG]
            if "id" in cell:
                stub["id"] = cell["id"]
            out.append(stub)
        else:
            out.append(cell)
    checks = sum(1 for c in out if c.cell_type == "code" and has_tag(c, CHECK))
    if not exercises and not checks:
        warnings.append(f"{name}: no `solution` or `check` cells: released as is (nothing to grade)")
    elif not checks:
        warnings.append(f"{name}: {exercises} exercise(s) but no `check` cell: grading will score nothing")
    elif not exercises:
        warnings.append(f"{name}: `check` cells but no `solution` cell: nothing was removed")
    _set_small_parameters(out, name, overrides, params or {}, warnings)
    if colab_source:
        _set_colab_source(out, name, colab_source, warnings)
    header = nbformat.v4.new_markdown_cell(header_markdown(name, exercises, checks, submit))
    header["id"] = HEADER_ID
    nb.cells = [header, *out]
    nb.metadata.pop("papermill", None)
    nb.metadata["seqlab_course"] = {"notebook": name, "version": "student", "checks": checks}
    nbformat.validate(nb)
    return Released(nb, exercises, checks, warnings)


def _set_colab_source(cells: list[NotebookNode], name: str, source: str, warnings: list[str]) -> None:
    for cell in cells:
        if cell.cell_type == "code" and COLAB_SOURCE in text(cell).splitlines():
            cell.source = text(cell).replace(COLAB_SOURCE, f"SEQLAB_SPEC_SOURCE = {source!r}", 1)
            return
    warnings.append(f"{name}: no Colab set-up cell (`{COLAB_SOURCE}`): --colab-source ignored")


def parse_param(expr: str) -> tuple[str, Any]:
    """`NAME=VALUE` from the command line: VALUE as a Python literal, else as a string."""
    name, sep, value = expr.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise SeqlabError(f"--param {expr!r}: expected NAME=VALUE, e.g. --param spec_path=specs/quickstart.yaml")
    try:
        parsed = ast.literal_eval(value.strip())
    except (ValueError, SyntaxError):
        parsed = value.strip()
    if name == "solutions" and parsed:
        raise SeqlabError(f"--param {expr!r}: a student version never has solutions switched on")
    return name, parsed


def _set_small_parameters(
    cells: list[NotebookNode],
    name: str,
    overrides: list[str] | None,
    params: dict[str, Any],
    warnings: list[str],
) -> None:
    """solutions=False, the small `overrides` where the notebook has that parameter, and `params`."""
    holder = nbformat.v4.new_notebook()
    holder.cells = cells
    idx = parameters_index(holder)
    if idx is None:
        cell = nbformat.v4.new_code_cell("solutions = False  # the student version has no reference solutions")
        if params:
            cell.source = set_parameters(cell.source, {**params, "solutions": False})
        cell.metadata["tags"] = ["parameters"]
        first_code = next((i for i, c in enumerate(cells) if c.cell_type == "code"), len(cells))
        cells.insert(first_code, cell)
        warnings.append(f"{name}: no `parameters` cell: added one with solutions = False")
        if overrides:
            warnings.append(f"{name}: no `overrides` parameter: --set ignored")
        return
    source = text(cells[idx])
    declared = parameter_names(source)
    for param in params:
        if param not in declared:
            warnings.append(f"{name}: the parameters cell had no `{param}`: --param added it")
    values: dict[str, Any] = {**params, "solutions": False}
    if "overrides" in declared:
        own = parameter_value(source, "overrides", None)
        if not isinstance(own, list | tuple):
            warnings.append(f"{name}: `overrides` is not a literal list: left as it is")
        else:
            values["overrides"] = merge_overrides([str(o) for o in own], [*SMALL_OVERRIDES, *(overrides or [])])
    elif overrides:
        warnings.append(f"{name}: the parameters cell has no `overrides`: --set ignored")
    cells[idx].source = set_parameters(source, values)


def release(
    paths: list[Path],
    out_dir: Path,
    force: bool = False,
    overrides: list[str] | None = None,
    submit: str | None = None,
    params: dict[str, Any] | None = None,
    colab_source: str | None = None,
) -> list[tuple[Path, Released]]:
    """Write the student version of each notebook to out_dir/<name>.ipynb; never overwrites without force."""
    out_dir = Path(out_dir)
    targets = [(Path(p), out_dir / Path(p).name) for p in paths]
    names = [t.name for _, t in targets]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SeqlabError(f"two notebooks would both be written to {out_dir / dupes[0]}; release them separately")
    for src, target in targets:
        if target.exists() and target.resolve() == src.resolve():
            raise SeqlabError(f"{target}: --out would overwrite the source notebook; pick another folder")
        if target.exists() and not force:
            raise SeqlabError(f"{target} exists; pass --force to overwrite it, or pick another --out folder")
    # Read and transform every notebook before writing any: one bad input leaves nothing half-released.
    released = [
        (t, release_notebook(read_notebook(s), s.stem, overrides, submit, params, colab_source)) for s, t in targets
    ]
    out_dir.mkdir(parents=True, exist_ok=True)
    for target, rel in released:
        nbformat.write(rel.notebook, str(target))
    return released
