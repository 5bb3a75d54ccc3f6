"""OIE-mediated domain transfer of event trigger detection, LitBank <-> TempEval-3, MiniLM-L6: target-test
span F1 zero-shot and few-shot (k target sentences), vanilla vs implicit vs explicit injection, mean ± std
over seeds, and the in-domain F1 of each side.

Per direction, injection and seed (`seqlab_spec.pipelines.oie_compare.transfer_curve`): the source model is
trained once and selected on source dev; scored on the target test it is the zero-shot point, on the source
test the in-domain point; each few-shot point continues a copy of it on k target sentences that hold a
trigger (drawn with that seed) for the same epochs, keeping the last weights: what `seqlab-spec run` does with
`method.regime: few-shot`, `method.k: [k]`, `train.seed: seed`. The specs are
specs/oie_litbank_to_tempeval.yaml and specs/oie_tempeval_to_litbank.yaml (TempEval train = TimeBank;
TempEval dev = 500 AQUAINT sentences), with the whole source train split unless --train says otherwise.
Relation tags come from the rule-based spaCy extractor, cached under $SEQLAB_CACHE/oie.

    .venv/bin/python benchmarks/oie_transfer.py           # 2 directions x 3 injections x 3 seeds, k 10/50/100
    .venv/bin/python benchmarks/oie_transfer.py --quick   # 1 seed, 1000 source sentences, 1 epoch, k 10/50
    .venv/bin/python benchmarks/oie_transfer.py --tiny    # seconds: a tiny local encoder, checks the script

Full runs take hours on 2 CPU cores (18 source trainings on whole source splits); the JSON is rewritten after
every direction, so a cut-off job keeps what it finished.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

from seqlab_spec.models.tiny import save_tiny_encoder  # noqa: E402

DIRECTIONS = {
    "litbank_to_tempeval": "oie_litbank_to_tempeval.yaml",
    "tempeval_to_litbank": "oie_tempeval_to_litbank.yaml",
}


def _args(argv: list[str] | None = None):
    p = common.parser(__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="one seed, --train 1000, 1 epoch, k 10 and 50")
    p.add_argument("--directions", nargs="+", choices=list(DIRECTIONS), default=list(DIRECTIONS))
    injections = ["none", "implicit", "explicit"]
    p.add_argument("--injections", nargs="+", choices=injections, default=injections)
    p.add_argument("--ks", type=int, nargs="+", default=None, help="few-shot sizes (default 10 50 100)")
    p.add_argument("--seeds", type=int, nargs="+", default=None, help="seeds (default 42 43 44)")
    p.add_argument("--train", type=int, default=None, help="source training sentences (default: all)")
    p.add_argument("--eval-limit", type=int, default=None, help="at most N dev/test sentences per split")
    p.add_argument("--epochs", type=float, default=None, help="epochs of both stages (default: the spec's)")
    p.add_argument("--batch-size", type=int, default=16, help="both stages (k=10 at 16: one step per epoch)")
    args = p.parse_args(argv)
    if args.quick:
        args.ks = args.ks or [10, 50]
        args.seeds = args.seeds or [42]
        args.train = args.train or 1000
        args.eval_limit = args.eval_limit or 600
        args.epochs = args.epochs or 1.0
    if args.tiny:
        args.ks = args.ks or [2]
        args.seeds = args.seeds or [42]
    args.ks = args.ks or [10, 50, 100]
    args.seeds = args.seeds or [42, 43, 44]
    return args


def direction_spec(args, name: str, tiny_model: Path | None):
    from seqlab_spec.spec.load import load_spec

    sets = [f"train.batch_size={args.batch_size}", "run.save_model=false", "train.logging_steps=50"]
    sets.append(f"data.limit.train={args.train or 'null'}")  # null: the whole split (specs cap it for CPUs)
    if args.epochs:
        sets.append(f"train.epochs={args.epochs}")
    if args.eval_limit:
        sets += [f"data.limit.{s}={args.eval_limit}" for s in ("dev", "test")]
        sets.append(f"data.target.limit.test={args.eval_limit}")
    if tiny_model is not None:
        sets += [
            f"model.name={tiny_model}",
            "train.max_steps=2",
            "train.max_length=64",
            "train.lr=1e-3",
            "data.limit.train=24",
            "data.limit.dev=8",
            "data.limit.test=8",
            "data.target.limit.test=8",
            "data.target.limit.train=60",
        ]
    return load_spec(common.spec_path(DIRECTIONS[name]), sets)


def run_direction(args, name: str, tiny_model: Path | None, work: Path) -> dict[str, Any]:
    from seqlab_spec.pipelines import oie, oie_compare

    spec = direction_spec(args, name, tiny_model)
    t0 = time.time()
    data = oie.prepare_data(spec)  # zero-shot layout; relation tags (cached) and overlaps of both domains
    prep_s = time.time() - t0
    rows = oie_compare.transfer_curve(
        spec, data, work / name, injections=args.injections, ks=args.ks, seeds=args.seeds
    )
    zero = [r for r in rows if r["k"] == 0]
    return {
        "spec": str(common.spec_path(DIRECTIONS[name]).relative_to(common.ROOT)),
        "settings": spec.model_dump(mode="json", include={"data", "train"}),
        "sentences": {split: len(s) for split, s in data.splits.items()},
        "overlap": data.overlap,
        "f1_reading": spec.eval.mode,
        "target_test_f1": _jsonable(oie_compare.summarize(rows, "target_test_f1")),
        "in_domain_source_test_f1": _jsonable(oie_compare.summarize(zero, "source_test_f1")),
        "source_dev_f1": _jsonable(oie_compare.summarize(zero, "source_dev_f1")),
        "table_target_test": oie_compare.curve_table(rows),
        "runs": rows,
        "prepare_seconds": round(prep_s, 1),
        "seconds": round(time.time() - t0, 1),
    }


def _jsonable(table: dict) -> dict:
    """injection -> {"0": {...}, "10": {...}} (JSON object keys are strings)."""
    return {inj: {str(k): v for k, v in per_k.items()} for inj, per_k in table.items()}


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    common.setup_env(args)
    name = "oie_transfer" + (".quick" if args.quick else "")
    notes = [
        "target_test_f1[injection][k]: k = 0 is zero-shot; mean ± sample std over seeds (0 with one seed)",
        "in_domain_source_test_f1: the zero-shot model on the source domain's own test split",
        "few-shot = sequential: source stage selected on source dev, then k target sentences, last weights",
    ]
    results: dict[str, Any] = {"args": {k: v for k, v in vars(args).items() if k != "out"}}
    with tempfile.TemporaryDirectory(prefix="oie-transfer-") as tmp:
        work = Path(tmp)
        tiny = save_tiny_encoder(work / "tiny-bert") if args.tiny else None
        for direction in args.directions:
            print(f"== {direction}", flush=True)
            results[direction] = run_direction(args, direction, tiny, work)
            print(results[direction]["table_target_test"], flush=True)
            common.write_result(name, args, results, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
