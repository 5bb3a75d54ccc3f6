"""seqlab-spec run SPEC: validate, then execute the method's notebook (or the pipeline) into a run folder;
seqlab-spec run --resume RUN_DIR: continue an interrupted run in its folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import SeqlabError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "run",
        help="run an experiment spec into a fresh run folder (or --resume an interrupted one)",
        description="Validate SPEC, check its data and model, then execute the method's teaching notebook with "
        "papermill (or, with --no-notebook, the same pipeline straight from the library) into a fresh run "
        "folder. --resume RUN_DIR continues an interrupted run from its last checkpoint, with the spec the run "
        "started with (SPEC / --set, if given, must not change it unless --force) and the way it started "
        "(notebook or --no-notebook). Exit codes: 0 ok, "
        "1 invalid input (nothing written), 3 a notebook cell failed (the executed notebook stays in the run "
        "folder).",
    )
    p.add_argument(
        "spec", nargs="?", help="YAML spec file, or a shipped spec's name (`quickstart`); optional with --resume"
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a spec value, e.g. --set train.epochs=1 (repeatable)",
    )
    p.add_argument("--no-notebook", action="store_true", help="run the pipeline without papermill")
    p.add_argument(
        "--out", type=Path, default=None, help="parent folder of the run folder (default: run.out_dir)"
    )
    p.add_argument(
        "--resume",
        type=Path,
        default=None,
        metavar="RUN_DIR",
        help="continue the interrupted run in RUN_DIR from its last checkpoint",
    )
    p.add_argument(
        "--launcher",
        choices=["none", "torchrun"],
        default="none",
        help="torchrun: train data-parallel in --nproc processes (DDP; gloo on CPU, NCCL on GPUs); needs --no-notebook",
    )
    p.add_argument("--nproc", type=int, default=None, help="processes for --launcher torchrun (default: GPUs, or 2)")
    p.add_argument(
        "--accelerate-config",
        type=Path,
        default=None,
        help="with --launcher torchrun: an `accelerate config` file (FSDP, DeepSpeed) to launch the workers with",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="with --resume: accept a spec that differs from the run's own (or a run that looks still alive)",
    )


def run(args: argparse.Namespace) -> int:
    from ..machine import hardware_problems
    from ..runner.execute import resume_run, run_spec
    from ..shipped import resolve_spec_arg
    from ..spec.load import load_spec

    if args.resume is not None:
        if args.out is not None:
            raise SeqlabError("--out does not apply to --resume: the run continues in RUN_DIR")
        use_notebook = False if args.no_notebook else None  # None: the way the run started
        resume_run(args.resume, args.spec, args.overrides, args.force, use_notebook=use_notebook)
        return 0
    if args.force:
        raise SeqlabError("--force only applies with --resume RUN_DIR")
    if args.spec is None:
        raise SeqlabError("give a SPEC to run (`seqlab-spec ls` lists the shipped ones), or --resume RUN_DIR")
    spec_path = resolve_spec_arg(args.spec)
    if args.launcher == "torchrun":
        from ..runner.launch import default_nproc, launch

        nproc = args.nproc if args.nproc is not None else default_nproc()
        launch(spec_path, args.overrides, nproc, args.out, args.no_notebook, args.accelerate_config)
        return 0
    if args.nproc is not None or args.accelerate_config is not None:
        raise SeqlabError("--nproc and --accelerate-config apply with --launcher torchrun")
    spec = load_spec(spec_path, args.overrides, checks=[hardware_problems])
    run_spec(spec, args.out, use_notebook=not args.no_notebook, spec_dir=spec_path.resolve().parent)
    return 0
