"""seqlab-spec report RUN_DIR...: one markdown table comparing runs."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser(
        "report",
        help="compare run folders in one markdown table",
        description="Print a markdown table of dev/test span F1 per setting (full dotted keys), in each run's "
        "headline reading (eval.mode: strict IOB2 on the raw tags, or conlleval; the table names it); runs that "
        "differ only by train.seed are averaged (mean ± std).",
    )
    p.add_argument("runs", nargs="+", type=Path, help="run folders")
    p.add_argument("--plot", type=Path, default=None, help="also write a bar chart of F1 per setting (PNG)")


def run(args: argparse.Namespace) -> int:
    from ..evaluation.plots import f1_bars
    from ..runner.report import compare

    table, bars = compare(args.runs)
    print(table)
    if args.plot:
        f1_bars(bars, args.plot)
        print(f"plot: {args.plot}")
    return 0
