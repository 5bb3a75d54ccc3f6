"""`seqlab-spec init DIR`: copy the shipped specs and notebooks out of the installed package, to edit them."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "init",
        help="copy the shipped specs/ and notebooks/ into a folder, to edit them",
        description="Copy the shipped specs (DIR/specs/*.yaml) and teaching notebooks (DIR/notebooks/*.ipynb) "
        "out of the installed package, for a user to edit or an instructor to release from. The notebooks "
        "read their default spec from the package: pass an edited one as `--param spec_path=...` (papermill) "
        "or `seqlab-spec run DIR/specs/x.yaml`.",
    )
    p.add_argument("dir", type=Path, help="destination folder (created if missing)")
    p.add_argument("--force", action="store_true", help="overwrite files already there")
    return p


def run(args: argparse.Namespace) -> int:
    from ..shipped import copy_out

    written = copy_out(args.dir, force=args.force)
    specs = sum(p.suffix == ".yaml" for p in written)
    print(f"{specs} specs -> {args.dir / 'specs'}, {len(written) - specs} notebooks -> {args.dir / 'notebooks'}")
    return 0
