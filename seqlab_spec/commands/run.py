"""seqlab-spec run SPEC: validate, then execute the method's notebook (or the pipeline) into a run folder."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser(
        "run",
        help="run an experiment spec into a fresh run folder",
        description="Validate SPEC, then execute the method's teaching notebook with papermill (or, with "
        "--no-notebook, the same pipeline straight from the library). Exit codes: 0 ok, 1 invalid input, "
        "3 a notebook cell failed (the executed notebook stays in the run folder).",
    )
    p.add_argument("spec", help="YAML experiment spec")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a spec value, e.g. --set train.epochs=1 (repeatable)",
    )
    p.add_argument("--no-notebook", action="store_true", help="run the pipeline without papermill")
    p.add_argument("--out", type=Path, default=None, help="parent folder of the run folder (default: run.out_dir)")


def run(args: argparse.Namespace) -> int:
    from ..run import run_spec
    from ..spec.load import load_spec

    spec = load_spec(args.spec, args.overrides)
    run_spec(spec, args.out, use_notebook=not args.no_notebook, spec_dir=Path(args.spec).resolve().parent)
    return 0
