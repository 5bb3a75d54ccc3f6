"""seqlab-spec predict RUN_DIR --input FILE|-: label new sentences with a run's model."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser(
        "predict",
        help="label sentences with a trained run folder",
        description='Input: JSONL with {"tokens": [...]} per line (pre-tokenized), or raw text, one sentence a '
        "line (tokenized with spaCy's English rules). Output: JSONL with tokens, labels and spans.",
    )
    p.add_argument("run_dir", type=Path, help="a run folder written by `seqlab-spec run`")
    p.add_argument("--input", required=True, help="input file, or - for standard input")
    p.add_argument("--output", default="-", help="output JSONL file (default: standard output)")
    p.add_argument("--batch-size", type=int, default=64)


def run(args: argparse.Namespace) -> int:
    from ..errors import SeqlabError
    from ..evaluation.predict_file import predict_file, read_input

    if args.batch_size < 1:
        raise SeqlabError(f"--batch-size: {args.batch_size} must be at least 1")
    rows = predict_file(args.run_dir, read_input(args.input), args.input, args.batch_size)
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        from ..runner.rundir import write_text

        write_text(Path(args.output), text)
    return 0
