"""SIFT loss strategies on SmolLM2-135M: span F1 of vanilla / src / mrc for k in {0, 1, 3}, training tokens/s
per strategy (as a ratio to vanilla, measured alternately in one process) and generation tokens/s.

Every F1 run trains the same LoRA (the CPU strategy spec's settings) on the same first --train CoNLL-2003
sentences for the same --steps with the same seed; only the loss strategy and k change. At k = 0 a prompt
has no demonstration, so mrc's mask equals src's: that run is not repeated (mrc reports src's figures).
Test F1 is span micro F1 in the headline reading (eval.mode, default strict IOB2 on the raw tags) on the
first --test sentences of test.txt, from greedy generation with demonstrations from the same training
sentences.

Decoding: each trained model is scored with free and with constrained decoding (`method.decoding`), side by
side: F1, parser counts and generation tokens/s of each (`decoding_table`, `constrained_vs_free`).

Throughput: one model, the same sentences in the same order for every arm, prompts with --throughput-k
demonstrations; each arm runs --throughput-steps optimizer steps (bf16 autocast where the CPU has it, as
the Trainer does) and arms alternate ABBA over --rounds. Arms: the three strategies as the pipeline trains
them (the LM head only at positions whose next token carries loss), and src/mrc with logits at every
position (`+all-logits`), which says what that saves. Tokens are non-pad prompt tokens.

    .venv/bin/python benchmarks/sift_strategies.py --threads 1            # the full grid
    .venv/bin/python benchmarks/sift_strategies.py --quick --threads 1    # k in {0, 1}, fewer steps
    .venv/bin/python benchmarks/sift_strategies.py --threads 1 --train 300 --test 24 --steps 10 --ks 1 \
        --no-throughput --tag decoding    # free vs constrained, sized for a loaded 2-core machine
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

from seqlab_spec.models.tiny import save_tiny_decoder  # noqa: E402

SPEC = "sift_conll03_strategies_cpu.yaml"
STRATEGIES = ("vanilla", "src", "mrc")


def _args(argv: list[str] | None = None):
    p = common.parser(__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="k in {0, 1}, --steps 20, --test 40, 1 throughput round pair")
    p.add_argument("--train", type=int, default=500, help="training sentences (also the demonstration pool)")
    p.add_argument("--test", type=int, default=100, help="test sentences scored")
    p.add_argument("--steps", type=int, default=60, help="optimizer steps per F1 run")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--ks", type=int, nargs="+", default=[0, 1, 3], help="demonstrations per prompt")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--throughput-k", type=int, default=1)
    p.add_argument("--throughput-steps", type=int, default=4)
    p.add_argument("--no-throughput", action="store_true", help="skip the alternating training-throughput arms")
    p.add_argument("--overhead-only", action="store_true",
                   help="only the alternating free vs constrained generation arms (no F1 runs, no training arms)")
    p.add_argument("--decodings", nargs="+", default=["free", "constrained"], choices=["free", "constrained"],
                   help="each trained model is scored with each decoding, side by side")
    p.add_argument("--strategies", nargs="+", default=list(STRATEGIES), choices=STRATEGIES)
    p.add_argument("--tag", default="", help="written as sift_strategies.<tag>.json (a sized-down grid)")
    args = p.parse_args(argv)
    if args.quick:
        args.ks, args.steps, args.test = [0, 1], 20, 40
        args.rounds = args.rounds or 2
    if args.tiny:
        args.train, args.test, args.steps, args.batch, args.ks = 24, 6, 2, 4, [0, 1]
        args.throughput_steps, args.rounds = 1, args.rounds or 2
    args.rounds = args.rounds or 4
    return args


def _tiny_model() -> Path:
    """SmolLM2's tokenizer: it has the end-of-sequence token sift needs."""
    dest = Path(tempfile.mkdtemp(prefix="tiny-sift-llama-"))
    return save_tiny_decoder(dest, tokenizer="smollm2-135m", layers=2, max_positions=2048)


def _spec(args, model_name: str | None, strategy: str, k: int):
    from seqlab_spec.spec.load import load_spec

    sets = [
        *common.conll_limits(args.train, None, args.test),
        f"train.max_steps={args.steps}",
        f"train.batch_size={args.batch}",
        f"train.seed={args.seed}",
        f"loss.strategy={strategy}",
        f"method.k={k}",
        "eval.splits=[test]",
        "run.save_model=false",
        "train.logging_steps=5",
    ]
    if model_name:
        sets.append(f"model.name={model_name}")
    spec = load_spec(common.spec_path(SPEC), sets)
    return spec.model_copy(update={"sweep": {}})


def f1_run(args, model_name: str | None, strategy: str, k: int) -> dict[str, Any]:
    """Train and score one (strategy, k) with the pipeline's own steps; train tokens counted by a hook."""
    from seqlab_spec.evaluation.scores import headline
    from seqlab_spec.pipelines import sift

    spec = _spec(args, model_name, strategy, k)
    data = sift.prepare_data(spec)
    model, tok = sift.build_model(spec, data.labels)
    counter = common.TokenCounter(model)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        trainer = sift.fit(spec, model, tok, data, Path(tmp))
        train_s = time.perf_counter() - t0
    counter.remove()
    out: dict[str, Any] = {
        "strategy": strategy,
        "k": k,
        "train_seconds": round(train_s, 1),
        "train_tokens": counter.real,
        "train_tokens_per_s": round(counter.real / train_s, 1),
        "decodings": {},
    }
    for decoding in args.decodings:
        method = spec.method.model_copy(update={"decoding": decoding})
        metrics, _ = sift.evaluate(spec.model_copy(update={"method": method}), trainer.model, tok, data)
        reading, test = headline(metrics["test"])
        out["decodings"][decoding] = {
            "f1_reading": reading,
            "test_f1": test["micro"]["f1"],
            "precision": test["micro"]["precision"],
            "recall": test["micro"]["recall"],
            "parser": metrics["test"]["parser"],
            "generation": metrics["test"]["generation"],
        }
    first = out["decodings"][args.decodings[0]]
    keys = ("f1_reading", "test_f1", "precision", "recall", "parser", "generation")
    return out | {k: first[k] for k in keys}


def throughput(args, model_name: str | None) -> dict[str, Any]:
    """Alternating training steps per strategy on one model and the same sentences."""
    import random

    import torch

    from seqlab_spec.pipelines import sift
    from seqlab_spec.sift.collator import SiftCollator
    from seqlab_spec.training.precision import autocast_dtype, resolve_precision

    spec = _spec(args, model_name, "mrc", args.throughput_k)
    data = sift.prepare_data(spec)
    model, tok = sift.build_model(spec, data.labels)
    model.train()
    cfg = sift.prompt_config(spec, data.labels, tok)
    n = args.throughput_steps * args.batch
    order = random.Random(args.seed).sample(range(len(data.splits["train"])), n)
    dtype = autocast_dtype(resolve_precision(spec.train.precision))
    optim = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)

    def arm(strategy: str, where_loss: bool):
        examples = sift.train_examples(spec, tok, data.splits["train"], cfg, strategy)
        chosen = [examples[i] for i in order]
        collate = SiftCollator(tok.pad_token_id, pad_to_multiple_of=8, logits_where_loss=where_loss)
        batches = [collate(chosen[i : i + args.batch]) for i in range(0, n, args.batch)]
        tokens = sum(int(b["attention_mask"].sum()) for b in batches)

        def run() -> dict[str, float]:
            t0 = time.perf_counter()
            for batch in batches:
                common.optimizer_step(model, batch, optim, dtype)
            seconds = time.perf_counter() - t0
            return {"seconds": seconds, "tokens": float(tokens), "tokens_per_s": tokens / seconds}

        return run

    arms = {s: arm(s, True) for s in STRATEGIES}
    arms |= {f"{s}+all-logits": arm(s, False) for s in ("src", "mrc")}
    samples = common.alternate(arms, args.rounds)
    out: dict[str, Any] = {"k": args.throughput_k, "steps_per_arm": args.throughput_steps, "batch": args.batch}
    for name, rows in samples.items():
        out[name] = {
            "tokens_per_s": common.summary([r["tokens_per_s"] for r in rows]),
            "ratio_to_vanilla": common.paired_ratio(samples, name, "vanilla", "tokens_per_s"),
        }
    return out


def decoding_overhead(args, model_name: str | None) -> dict[str, Any]:
    """Free vs constrained generation on one model and the same prompts, alternated ABBA over --rounds.

    The model: SmolLM2 (untrained adapters) prompted with --throughput-k demonstrations, so it writes
    format-shaped answers. Per arm: tokens/s and seconds per sentence; the constrained arm also times the
    logits processor itself (its share of the arm's wall time is the overhead per generated token). The
    response automata are rebuilt in every constrained arm (their cache cleared), as one evaluation pass
    builds them; the tokenizer's byte table is built once per process, before the arms (timed apart)."""
    import torch

    from seqlab_spec.pipelines import sift
    from seqlab_spec.sift import constrain, grammar

    spec = _spec(args, model_name, "mrc", args.throughput_k)
    data = sift.prepare_data(spec)
    model, tok = sift.build_model(spec, data.labels)
    cfg = sift.prompt_config(spec, data.labels, tok)
    selector = sift.selector_for(spec, data.splits["train"])
    queries = data.splits["test"]
    t0 = time.perf_counter()
    constrain.vocab_for(tok)
    vocab_s = time.perf_counter() - t0
    spent = [0.0]
    call = constrain.ConstrainedLogits.__call__

    def timed(self, input_ids, scores):
        t = time.perf_counter()
        try:
            return call(self, input_ids, scores)
        finally:
            spent[0] += time.perf_counter() - t

    def arm(decoding: str):
        method = spec.method.model_copy(update={"decoding": decoding})
        one = spec.model_copy(update={"method": method})

        def run() -> dict[str, float]:
            grammar._grammar.cache_clear()
            spent[0] = 0.0
            t = time.perf_counter()
            with torch.inference_mode():
                pred = sift.generate_split(one, model, tok, cfg, selector, queries, spec.eval.batch_size, "test")
            seconds = time.perf_counter() - t
            tokens = float(sum(pred.new_tokens))
            return {"seconds": seconds, "tokens": tokens, "tokens_per_s": tokens / seconds,
                    "s_per_sentence": seconds / len(queries), "processor_share": spent[0] / seconds}

        return run

    constrain.ConstrainedLogits.__call__ = timed
    try:
        arm("constrained")()  # warm-up (first-call costs of generate and the model)
        samples = common.alternate({"free": arm("free"), "constrained": arm("constrained")}, args.rounds)
    finally:
        constrain.ConstrainedLogits.__call__ = call
    out: dict[str, Any] = {"k": args.throughput_k, "sentences": len(queries), "vocab_build_seconds": round(vocab_s, 2)}
    for name, rows in samples.items():
        out[name] = {key: common.summary([r[key] for r in rows]) for key in ("tokens_per_s", "s_per_sentence")}
    out["constrained"]["processor_share"] = common.summary([r["processor_share"] for r in samples["constrained"]])
    out["tokens_per_s_ratio"] = common.paired_ratio(samples, "constrained", "free", "tokens_per_s")
    out["s_per_sentence_ratio"] = common.paired_ratio(samples, "constrained", "free", "s_per_sentence")
    return out


def _compare(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per cell: F1 constrained - free, and constrained/free generation tokens/s; over cells: the extremes."""
    cells = {}
    for r in runs:
        if "same_as" in r:
            continue
        free, con = r["decodings"]["free"], r["decodings"]["constrained"]
        cells[f"{r['strategy']}@k={r['k']}"] = {
            "f1_gain": round(con["test_f1"] - free["test_f1"], 4),
            "tokens_per_s_ratio": round(con["generation"]["tokens_per_s"] / free["generation"]["tokens_per_s"], 3),
        }
    gains = [c["f1_gain"] for c in cells.values()]
    ratios = [c["tokens_per_s_ratio"] for c in cells.values()]
    return {
        "cells": cells,
        "f1_gain_min": min(gains),
        "f1_gain_mean": round(sum(gains) / len(gains), 4),
        "tokens_per_s_ratio_min": min(ratios),
        "tokens_per_s_ratio_median": sorted(ratios)[len(ratios) // 2],
        "cells_constrained_at_least_free": sum(g >= 0 for g in gains),
    }


def _write(args, model_name: str | None, runs: list[dict[str, Any]], speed: dict | None, t0: float,
           complete: bool) -> dict[str, Any]:
    results = {
        "settings": {
            "spec": SPEC,
            "train_sentences": args.train,
            "test_sentences": args.test,
            "steps": args.steps,
            "batch": args.batch,
            "seed": args.seed,
            "ks": args.ks,
            "strategies": args.strategies,
            "quick": args.quick,
            "decodings": args.decodings,
            "max_new_tokens": _spec(args, model_name, "vanilla", 0).method.max_new_tokens,
        },
        "complete": complete,
        "f1_runs": runs,
        "f1_table": {f"{r['strategy']}@k={r['k']}": round(r["test_f1"], 4) for r in runs},
        "generation_tokens_per_s": {f"{r['strategy']}@k={r['k']}": r["generation"]["tokens_per_s"] for r in runs},
        "decoding_table": {
            f"{r['strategy']}@k={r['k']}": {
                d: {"test_f1": round(v["test_f1"], 4), "tokens_per_s": v["generation"]["tokens_per_s"]}
                for d, v in r["decodings"].items()
            }
            for r in runs
        },
        "train_throughput": speed,
        "wall_seconds": round(time.time() - t0, 1),
    }
    notes = [
        "test F1: span micro F1, strict and conlleval readings alike (parsed spans are valid BIO); tiny CPU "
        "budgets, so differences between strategies are noisy",
        "generation tokens/s: tokens generated up to each sentence's end (eos or bound) per second of generation",
        "train tokens/s: non-pad prompt tokens per second; ratio_to_vanilla pairs arms measured next to each other",
    ]
    if len(args.decodings) == 2 and runs:
        results["constrained_vs_free"] = _compare(runs)
        notes.append(
            "free vs constrained: the same trained model scored twice; generation overhead is 1 - the ratio of "
            "constrained to free tokens/s (per generated token, prompt building and the automata included)"
        )
    common.write_result(f"sift_strategies{'.' + args.tag if args.tag else ''}", args, results, notes)
    return results


def _overhead_main(args, model_name: str | None) -> int:
    result = decoding_overhead(args, model_name)
    settings = {"spec": SPEC, "test_sentences": args.test, "rounds": args.rounds, "strategy": "mrc",
                "adapters": "untrained (the stock model, prompted with demonstrations)"}
    notes = [
        "the same model, prompts and batches for both arms, alternated ABBA; each arm's answers differ (the "
        "constraint changes them), so tokens/s is per generated token and s/sentence per query",
        "processor share: wall time inside the logits processor / the constrained arm's wall time, i.e. the "
        "generation time that constrained decoding adds per generated token",
    ]
    common.write_result(f"sift_decoding_overhead{'.' + args.tag if args.tag else ''}", args,
                        {"settings": settings, "overhead": result}, notes)
    share = result["constrained"]["processor_share"]["median"]
    ratio = result["tokens_per_s_ratio"]["median"]
    print(f"processor share {share:.1%}; constrained / free tokens/s x{ratio:.3f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    common.setup_env(args)
    t0 = time.time()
    model_name = str(_tiny_model()) if args.tiny else None
    if args.overhead_only:
        return _overhead_main(args, model_name)
    runs = []
    for k in args.ks:
        for strategy in args.strategies:
            if k == 0 and strategy == "mrc" and "src" in args.strategies:
                same = next(r for r in runs if r["k"] == 0 and r["strategy"] == "src")
                runs.append({**same, "strategy": "mrc", "same_as": "src (no demonstrations: equal masks)"})
                continue
            print(f"== F1 run: strategy {strategy}, k {k}", flush=True)
            runs.append(f1_run(args, model_name, strategy, k))
            for name, d in runs[-1]["decodings"].items():
                gen = d["generation"]["tokens_per_s"]
                print(f"   {name:12s} test F1 {d['test_f1']:.4f}  gen tok/s {gen}", flush=True)
            _write(args, model_name, runs, None, t0, complete=False)  # a cut-short run keeps what it measured
    speed = None
    if not args.no_throughput:
        print("== throughput (alternating)", flush=True)
        speed = throughput(args, model_name)
    results = _write(args, model_name, runs, speed, t0, complete=True)
    for name, f1 in results["f1_table"].items():
        print(f"  {name:16s} test F1 {f1:.4f}")
    for name in [*STRATEGIES, "src+all-logits", "mrc+all-logits"] if speed else []:
        r = speed[name]
        print(f"  {name:16s} train tokens/s {r['tokens_per_s']['median']:.1f}  x{r['ratio_to_vanilla']['median']:.3f}")
    print(f"wall {results['wall_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
