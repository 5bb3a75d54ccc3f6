"""`seqlab-spec validate SPEC... [--set a.b=value]`: every problem of every file, or one OK line each."""

from __future__ import annotations

import argparse
import sys

from ..errors import SpecError


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "validate",
        help="check specs without running them",
        description="Check specs: print every problem (file:line:col  key  message) and exit 1, "
        "or one OK line per spec.",
    )
    p.add_argument("specs", nargs="+", metavar="SPEC", help="spec YAML files")
    add_set_argument(p)
    p.add_argument(
        "--portable",
        action="store_true",
        help="skip checks of this machine's hardware (e.g. CUDA for quantization), to validate GPU specs anywhere",
    )
    return p


def add_set_argument(p: argparse.ArgumentParser) -> None:
    """`--set a.b=value` (repeatable); shared with the commands that load a spec."""
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one key, value in YAML (e.g. --set train.epochs=1 --set method.unmask=[0000,0110])",
    )


def run(args: argparse.Namespace) -> int:
    from ..machine import hardware_problems
    from ..runner.sweep import grid
    from ..spec.load import load_spec
    from ..spec.overrides import grid_size

    checks = () if args.portable else (hardware_problems,)
    failed = 0
    for path in args.specs:
        try:
            spec = load_spec(path, args.overrides, checks=checks)
        except SpecError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
            continue
        axes = grid(spec)  # the sweep with its sugar (unmask pattern lists, few-shot samples) spelled out
        sweep = f", {grid_size(axes)} runs" if axes else ""
        print(f"OK  {path}  ({spec.name}: method {spec.method.name}, model {spec.model.name}{sweep})")
    return 1 if failed else 0
