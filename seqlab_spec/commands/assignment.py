"""seqlab-spec assignment release|grade: student versions of the notebooks, and autograding of submissions."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import SeqlabError


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from ..course.release import GRADING_OVERRIDES

    p = subparsers.add_parser(
        "assignment",
        help="release student notebooks and grade submissions (course kit)",
        description="Course kit: `release` writes student versions of notebooks (reference solutions "
        "removed, self-checks kept); `grade` runs submitted notebooks and scores their self-checks. "
        "See docs/teaching.md.",
    )
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    rel = sub.add_parser(
        "release",
        help="write the student version of each notebook",
        description="Write OUT/<name>.ipynb for each NOTEBOOK: each `solution` cell replaced by a stub, "
        "`check` cells kept, outputs cleared, solutions=False (and small `overrides` where the notebook "
        "has them), a header saying how to run and submit. Existing files are kept unless --force.",
    )
    rel.add_argument("notebooks", nargs="+", type=Path, metavar="NOTEBOOK", help="source notebooks (.ipynb)")
    rel.add_argument("--out", type=Path, required=True, help="folder for the student versions")
    rel.add_argument("--force", action="store_true", help="overwrite existing files in --out")
    rel.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a spec override for the student default `overrides` (notebooks that have that parameter)",
    )
    rel.add_argument(
        "--param",
        dest="params",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a parameter of the student version, e.g. --param spec_path=quickstart.yaml (repeatable)",
    )
    rel.add_argument("--submit", default=None, metavar="TEXT", help="how to hand in (replaces the default text)")
    rel.add_argument(
        "--colab-source",
        default=None,
        metavar="REQUIREMENT",
        help="what the Colab set-up cell pip-installs the kit from: seqlab-spec (the package index), "
        "git+https://github.com/<you>/seqlab-spec@<tag>, or a wheel's URL. Without it, the cell on Colab stops "
        "and asks for SEQLAB_SPEC_SOURCE",
    )

    gr = sub.add_parser(
        "grade",
        help="run submitted notebooks and score their self-checks",
        description="Run each submission in a fresh kernel (papermill, solutions=False), score every "
        "`check` cell and write OUT/grades.json, OUT/feedback/<student>.md and "
        "OUT/graded/<student>.ipynb. A broken submission scores zero on the checks it could not "
        "reach, with the reason; the batch goes on.",
    )
    gr.add_argument("submissions", nargs="+", type=Path, metavar="SUBMISSION", help=".ipynb files or folders")
    gr.add_argument("--out", type=Path, default=Path("grades"), help="results folder (default: grades)")
    gr.add_argument(
        "--points", type=Path, default=None, help='JSON {"<notebook>" or "*": {"<check n or cell id>": pts}}'
    )
    gr.add_argument("--params", type=Path, default=None, help="YAML/JSON of notebook parameters to inject")
    gr.add_argument("--timeout", type=float, default=300.0, help="seconds one cell may run (default 300)")
    gr.add_argument(
        "--reference",
        action="append",
        type=Path,
        default=[],
        metavar="NOTEBOOK",
        help="released (or source) notebook whose checks are graded instead of the submission's own (repeatable)",
    )
    gr.add_argument(
        "--training",
        choices=["fast", "as-released"],
        default="fast",
        help="the training each notebook runs: fast (default: "
        f"{' '.join(GRADING_OVERRIDES)}; the exercises check code, not the model's scores) or as-released "
        "(the student version's own overrides: minutes per submission)",
    )
    gr.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a spec override for the graded runs, after --training's (repeatable), e.g. --set train.max_steps=20",
    )
    gr.add_argument("--jobs", type=int, default=1, help="submissions graded at once (default 1)")
    gr.add_argument("--kernel", default="python3", help="Jupyter kernel to run them in (default python3)")
    gr.add_argument("--force", action="store_true", help="overwrite an existing OUT/grades.json")
    return p


def load_params(path: Path) -> dict[str, Any]:
    """The parameters override file: a mapping of parameter name -> value; solutions cannot be switched on."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SeqlabError(f"{path}: cannot read the parameters file ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise SeqlabError(f"{where}: not valid YAML/JSON ({getattr(exc, 'problem', exc)})") from None
    data = {} if data is None else data
    if not isinstance(data, dict) or not all(isinstance(k, str) and k.isidentifier() for k in data):
        raise SeqlabError(f"{path}: expected a mapping of parameter names to values, e.g. spec_path: specs/x.yaml")
    if data.get("solutions"):
        raise SeqlabError(f"{path}: solutions: true would grade the reference solutions; remove it")
    return data


def _submissions(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found += sorted(q for q in p.rglob("*.ipynb") if ".ipynb_checkpoints" not in q.parts)
        elif p.exists():
            found.append(p)
        else:
            raise SeqlabError(f"{p}: no such submission file or folder")
    if not found:
        raise SeqlabError(f"no .ipynb files in {', '.join(map(str, paths))}")
    return found


def _release(args: argparse.Namespace) -> int:
    from ..course.release import parse_param, release

    params = dict(parse_param(p) for p in args.params)
    for target, rel in release(
        args.notebooks, args.out, args.force, args.overrides, args.submit, params, args.colab_source
    ):
        for warning in rel.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        print(f"wrote {target}  ({rel.exercises} exercises, {rel.checks} checks)")
    return 0


def _grade(args: argparse.Namespace) -> int:
    from ..course.cells import read_notebook
    from ..course.feedback import write_results
    from ..course.grade import Grade, Settings, grade_all, notebook_name
    from ..course.points import load_points, unknown_keys
    from ..course.release import GRADING_OVERRIDES, merge_overrides

    if args.jobs < 1:
        raise SeqlabError(f"--jobs {args.jobs}: give at least 1")
    if args.timeout <= 0:
        raise SeqlabError(f"--timeout {args.timeout:g}: give a number of seconds > 0")
    if (args.out / "grades.json").exists() and not args.force:
        raise SeqlabError(f"{args.out / 'grades.json'} exists; pass --force to overwrite it, or pick another --out")
    submissions = _submissions(args.submissions)
    training = merge_overrides(list(GRADING_OVERRIDES) if args.training == "fast" else [], args.overrides)
    references = {}
    for ref in args.reference:
        nb = read_notebook(ref)
        references[notebook_name(nb, ref)] = nb
    settings = Settings(
        timeout=args.timeout,
        parameters=load_params(args.params) if args.params else {},
        points=load_points(args.points) if args.points else None,
        references=references,
        kernel=args.kernel,
        training=tuple(training),
    )

    def done(g: Grade) -> None:
        extra = f"  ({g.reason})" if g.reason else ""
        print(f"{g.label}: {g.score:g}/{g.max:g}  {g.status}  {g.seconds:.1f} s{extra}", flush=True)

    grades = grade_all(submissions, settings, args.out / "graded", jobs=args.jobs, on_done=done)
    seen: dict[str, list[tuple[int, str | None]]] = {}
    for g in grades:
        if g.checks and g.notebook not in seen:
            seen[g.notebook] = [(c.index, c.cell_id) for c in g.checks]
    for notebook, checks in seen.items():
        for key in unknown_keys(settings.points, notebook, checks):
            print(f"warning: {args.points}: {notebook} -> {key} names no check", file=sys.stderr)
    record = {
        "timeout": args.timeout,
        "parameters": settings.parameters,
        "points_file": str(args.points) if args.points else None,
        "references": [str(r) for r in args.reference],
        "training": training,
    }
    path = write_results(grades, args.out, record)
    print(f"grades: {path}; feedback: {args.out / 'feedback'}")
    return 0


def run(args: argparse.Namespace) -> int:
    return _release(args) if args.action == "release" else _grade(args)
