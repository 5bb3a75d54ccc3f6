"""Inference: seqlab-spec's predict path against transformers' token-classification pipeline, on the same
fine-tuned MiniLM-L6 and the same CoNLL-2003 test sentences; speed (sentences/s) and label agreement.

The model is fine-tuned here first (the library's path, --train sentences, 1 epoch) and saved; every arm loads
that folder in fp32. Arms, alternating within each round (ABBA across rounds):
- `seqlab`: `predict.predict_tags` (length-sorted batches of 64, one forward each, first subword -> word label,
  bf16 autocast where the CPU has it: what `seqlab-spec run` evaluates with);
- `seqlab_fp32`: the same without autocast (separates the batching gain from the precision gain);
- `pipeline_bN`: `pipeline("token-classification", aggregation_strategy="first", batch_size=N)` on the words
  joined by spaces (raw text, how the pipeline is normally called); entity groups are mapped back to words by
  character offsets.
- `encode_only`: seqlab's tokenization of the same sentences alone (its share of `seqlab`).

Agreement: the predicted spans per sentence (both sides normalised BIO -> spans), and per word.

    .venv/bin/python benchmarks/inference.py --sentences 1000 --train 2000 --rounds 3
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


def _args(argv: list[str] | None = None):
    p = common.parser(__doc__.split("\n\n")[0])
    p.add_argument("--sentences", type=int, default=1000, help="CoNLL-2003 test sentences (the first N)")
    p.add_argument("--train", type=int, default=2000, help="sentences the compared model is fine-tuned on")
    p.add_argument("--pipeline-batch", type=int, nargs="+", default=[1, 64], help="pipeline batch sizes")
    p.add_argument("--batch", type=int, default=64, help="seqlab-spec's batch size")
    p.add_argument("--epochs", type=float, default=1.0, help="fine-tuning epochs")
    p.add_argument("--lr", type=float, default=1e-4, help="fine-tuning learning rate")
    return common.parse(p, argv, __file__)


def finetune(spec, out: Path) -> Path:
    """Train the encoder the library's way and save it as a plain transformers folder."""
    from seqlab_spec.models.encoder import save_encoder
    from seqlab_spec.pipelines.common import prepare_data
    from seqlab_spec.pipelines.tagger import build_model
    from seqlab_spec.training.train import build_trainer, tagging_features

    data = prepare_data(spec)
    model, tok = build_model(spec, data.labels)
    feats = tagging_features(data.splits["train"], tok, data.labels, spec.train.max_length)
    build_trainer(spec, model, tok, feats, None, data.labels, out / "trainer").train()
    dest = out / "model"
    save_encoder(model, tok, dest)
    return dest


def word_starts(words: list[str]) -> list[tuple[int, int]]:
    """(start, end) character range of each word in ' '.join(words)."""
    out, pos = [], 0
    for w in words:
        out.append((pos, pos + len(w)))
        pos += len(w) + 1
    return out


def groups_to_tags(words: list[str], groups: list[dict]) -> tuple[list[str], int]:
    """Pipeline entity groups (character offsets) -> one BIO tag per word; also how many groups start or end
    inside a word (the pipeline's word boundaries differ from the data's there)."""
    ranges = word_starts(words)
    tags = ["O"] * len(words)
    inside = 0
    for g in groups:
        covered = [i for i, (s, e) in enumerate(ranges) if s < g["end"] and g["start"] < e]
        if not covered:
            continue
        first, last = covered[0], covered[-1]
        if ranges[first][0] != g["start"] or ranges[last][1] != g["end"]:
            inside += 1
        if tags[first] != "O":  # an earlier group already labelled this word (it split the word)
            covered = covered[1:]
            if not covered:
                continue
        tags[covered[0]] = f"B-{g['entity_group']}"
        for i in covered[1:]:
            tags[i] = f"I-{g['entity_group']}"
    return tags, inside


def normalised(tags: list[str]) -> list[str]:
    """BIO rebuilt from spans: an I- that continues nothing becomes B-, as the span scorer reads it."""
    from seqlab_spec.data.schemes import spans

    out = ["O"] * len(tags)
    for s, e, t in spans(tags):
        out[s] = f"B-{t}"
        for i in range(s + 1, e):
            out[i] = f"I-{t}"
    return out


def has_split_word(tokenizer, words: list[str]) -> bool:
    """Whether some word is cut by the tokenizer's pre-tokenizer (punctuation inside it: 'U.S.', '1996-12-06'):
    such a word's later pieces do not start with '##', so the pipeline takes them for words of their own."""
    for w in words:
        pieces = tokenizer.tokenize(w)
        if len(pieces) > 1 and any(not p.startswith("##") for p in pieces[1:]):
            return True
    return False


def agreement(a: list[list[str]], b: list[list[str]]) -> dict[str, Any]:
    sent = sum(x == y for x, y in zip(a, b, strict=True))
    words = sum(len(x) for x in a)
    same = sum(p == q for x, y in zip(a, b, strict=True) for p, q in zip(x, y, strict=True))
    return {"sentences_identical": sent / len(a), "words_identical": same / words, "n_sentences": len(a)}


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    common.setup_env(args)
    import torch
    from transformers import pipeline

    from seqlab_spec.data.encoding import encode_words
    from seqlab_spec.evaluation.predict import predict_tags
    from seqlab_spec.evaluation.scores import span_scores
    from seqlab_spec.models.encoder import load_encoder
    from seqlab_spec.pipelines.common import prepare_data
    from seqlab_spec.spec.load import load_spec
    from seqlab_spec.training.precision import autocast_dtype, resolve_precision

    tmp = Path(tempfile.mkdtemp(prefix="bench-infer-"))
    n_train, n_sent = (32, 24) if args.tiny else (args.train, args.sentences)
    sets = [
        f"data.limit.train={n_train}",
        f"data.limit.test={n_sent}",
        "data.limit.dev=1",
        f"train.epochs={args.epochs}",
        f"train.lr={args.lr}",
        "train.eval_every=never",
        "train.select_best=false",
        "train.logging_steps=1000",
    ]
    if args.tiny:
        sets.append(f"model.name={save_tiny_encoder(tmp / 'tiny-bert')}")
    # --tiny checks the script on bundled WNUT-17 (a clone has no CoNLL-2003); the figures come from CoNLL-2003
    spec = load_spec(common.spec_path("encoder_wnut17_cpu.yaml" if args.tiny else "encoder_conll03_cpu.yaml"), sets)
    print(f"fine-tuning {spec.model.name} on {n_train} sentences", flush=True)
    model_dir = finetune(spec, tmp)
    model, tok, labels = load_encoder(model_dir)
    model.eval()
    gold = prepare_data(spec).splits["test"]
    words = [s.tokens for s in gold]
    texts = [" ".join(w) for w in words]
    ml = spec.train.max_length
    dtype = autocast_dtype(resolve_precision(spec.train.precision))
    pipes = {
        b: pipeline(
            "token-classification", model=model, tokenizer=tok, aggregation_strategy="first", device=-1, batch_size=b
        )
        for b in args.pipeline_batch
    }
    preds: dict[str, list[list[str]]] = {}
    split_groups: dict[str, int] = {}

    def seqlab(autocast):
        def arm() -> dict[str, float]:
            t0 = time.perf_counter()
            tags = predict_tags(model, tok, words, labels, ml, args.batch, autocast=autocast).tags
            s = time.perf_counter() - t0
            preds["seqlab" if autocast is not None else "seqlab_fp32"] = tags
            return {"seconds": s, "sentences_per_s": len(words) / s}

        return arm

    def pipe(b: int):
        def arm() -> dict[str, float]:
            t0 = time.perf_counter()
            with torch.inference_mode():
                out = pipes[b](texts)
            s = time.perf_counter() - t0
            conv = [groups_to_tags(w, g) for w, g in zip(words, out, strict=True)]
            preds[f"pipeline_b{b}"] = [c[0] for c in conv]
            split_groups[f"pipeline_b{b}"] = sum(c[1] for c in conv)
            return {"seconds": s, "sentences_per_s": len(words) / s}

        return arm

    def encode_only() -> dict[str, float]:
        t0 = time.perf_counter()
        for w in words:
            encode_words(tok, w, ml)
        s = time.perf_counter() - t0
        return {"seconds": s, "sentences_per_s": len(words) / s}

    arms: dict[str, Any] = {}
    if dtype is not None:
        arms["seqlab"] = seqlab(dtype)
    arms["seqlab_fp32"] = seqlab(None)
    for b in args.pipeline_batch:
        arms[f"pipeline_b{b}"] = pipe(b)
    arms["encode_only"] = encode_only
    rounds = args.rounds or (1 if args.tiny else 3)
    for arm in arms.values() if not args.tiny else ():  # one untimed pass each: kernels, pipeline set-up
        arm()
    samples = common.alternate(arms, rounds)
    main_arm = "seqlab" if dtype is not None else "seqlab_fp32"
    norm = {k: [normalised(t) for t in v] for k, v in preds.items()}
    gold_tags = [s.tags for s in gold]
    results: dict[str, Any] = {
        "model": f"{spec.model.name} fine-tuned on the first {n_train} CoNLL-2003 train sentences, "
        f"{args.epochs:g} epoch(s), lr {args.lr:g}",
        "sentences": len(words),
        "seqlab_precision": resolve_precision(spec.train.precision),
        "seqlab_batch": args.batch,
        "arms": {
            k: {"sentences_per_s_noisy": common.summary([r["sentences_per_s"] for r in v])} for k, v in samples.items()
        },
        "speedup": {
            f"{a}/pipeline_b{b}": common.paired_ratio(samples, f"pipeline_b{b}", a, "seconds")
            for a in (main_arm, "seqlab_fp32")
            for b in args.pipeline_batch
        },
        "encode_share_of_seqlab": common.paired_ratio(samples, "encode_only", main_arm, "seconds"),
        "f1_reading": "strict",
        "test_f1": {k: span_scores(gold_tags, v, "strict")["micro"]["f1"] for k, v in preds.items()},
        "agreement": {},
        "pipeline_groups_with_inner_word_boundary": split_groups,
    }
    for b in args.pipeline_batch:
        p = f"pipeline_b{b}"
        row = agreement(norm[main_arm], norm[p])
        row["vs_seqlab_fp32"] = agreement(norm["seqlab_fp32"], norm[p])
        differ = [i for i in range(len(words)) if norm["seqlab_fp32"][i] != norm[p][i]]
        split = {i for i in differ if has_split_word(tok, words[i])}
        cut = {i for i in differ if encode_words(tok, words[i], ml).n_words_kept < len(words[i])}
        row["fp32_disagreements"] = len(differ)
        row["fp32_disagreements_with_a_split_word"] = len(split)
        row["fp32_disagreements_cut_by_max_length"] = len(cut)
        row["fp32_disagreements_neither"] = len(set(differ) - split - cut)
        row["examples"] = [
            {"words": words[i], "seqlab_fp32": norm["seqlab_fp32"][i], "pipeline": norm[p][i]} for i in differ[:3]
        ]
        results["agreement"][f"{main_arm} vs {p}"] = row
    if dtype is not None:
        results["agreement"]["seqlab (bf16) vs seqlab_fp32"] = agreement(norm["seqlab"], norm["seqlab_fp32"])
    common.write_result("inference", args, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
