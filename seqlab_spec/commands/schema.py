"""`seqlab-spec schema [--markdown]`: the spec's JSON Schema, or the markdown reference (docs/spec.md)."""

from __future__ import annotations

import argparse
import sys


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "schema",
        help="print the spec's JSON Schema (or the markdown reference)",
        description="Print the JSON Schema of a spec; with --markdown the reference kept in docs/spec.md.",
    )
    p.add_argument("--markdown", action="store_true", help="the markdown reference instead of JSON Schema")
    return p


def run(args: argparse.Namespace) -> int:
    from ..spec.reference import json_schema_text, render_markdown

    sys.stdout.write(render_markdown() if args.markdown else json_schema_text())
    return 0
