"""The `seqlab-spec` command line: argparse, one subcommand per module in seqlab_spec/commands/."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from . import __version__
from .errors import SeqlabError

COMMANDS = ["validate", "run", "schema", "ls", "init", "predict", "report", "assignment"]


def _command_module(name: str) -> ModuleType | None:
    """The module of a subcommand, or None while it does not exist yet (errors inside it still raise)."""
    module_name = f"{__package__}.commands.{name}"
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None
        raise


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser with every available subcommand, or with `only` one (so `validate` imports no more)."""
    parser = argparse.ArgumentParser(
        prog="seqlab-spec",
        description="Declarative sequence-labeling experiments: validate and run YAML specs.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        if only is not None and name != only:
            continue
        module = _command_module(name)
        if module is None:
            continue
        sub = module.add_parser(subparsers)
        if not isinstance(sub, argparse.ArgumentParser):
            sub = subparsers.choices[name]
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status. A SeqlabError prints `error: ...` (no traceback) and gives 1."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    first = args_list[0] if args_list else None
    only = first if first in COMMANDS and _command_module(first) is not None else None
    args = build_parser(only).parse_args(args_list)
    try:
        return int(args._run(args) or 0)
    except SeqlabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 1))
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
