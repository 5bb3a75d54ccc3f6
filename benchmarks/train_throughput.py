"""Training throughput of seqlab-spec's encoder and decoder paths against the usual Hugging Face recipe, and
the compute they achieve as a fraction of this CPU's matmul peak.

Every arm trains one epoch over the same CoNLL-2003 sentences (the first --train of train.txt) with the same
model, batch size, learning rate and seed, so each sees every sentence once in the same number of steps:

- `hf`: the run_ner recipe. `tokenizer(words, is_split_into_words=True)`, first-subword labels (-100
  elsewhere), `DataCollatorForTokenClassification` (no pad multiple: run_ner pads to 8 only for fp16),
  `TrainingArguments` defaults (fp32, random batches), AutoModelForTokenClassification (+ the same LoRA for
  the decoder, peft task TOKEN_CLS).
- `hf+bf16`, `hf+grouped`: the recipe with one of seqlab-spec's two changes, to say where the gain comes from.
- `seqlab`: the library's path (`pipelines.tagger.build_model` + `train.build_trainer`: bf16 autocast where
  the CPU has it, length-grouped batches, pad to a multiple of 8; the decoder is the unmask tagger at 0000).

Arms alternate within each round (ABBA order across rounds), with a 2048^2 fp32 and bf16 torch.matmul in
between, so the peak they are divided by is measured under the same load. Tokens are counted by a forward
pre-hook on the model: non-pad (attention_mask) and padded.

    .venv/bin/python benchmarks/train_throughput.py --encoder-train 1024 --decoder-train 160 --rounds 2
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

from seqlab_spec.models.tiny import save_tiny_decoder, save_tiny_encoder  # noqa: E402

FLOP_FORMULA = (
    "FLOPs = tokens x (4 x N + 2 x T), N = parameters in matmuls (embedding tables excluded), T = trainable "
    "ones (T = N for full fine-tuning: the usual 6N; LoRA: frozen weights need no weight gradient); attention "
    "score matmuls left out (<2% at these lengths). Useful FLOP/s counts non-pad tokens, executed FLOP/s padded ones."
)


DECODER_LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def _args(argv: list[str] | None = None):
    p = common.parser(__doc__.split("\n\n")[0])
    p.add_argument("--encoder-train", type=int, default=1024, help="sentences per encoder epoch (0: skip)")
    p.add_argument("--decoder-train", type=int, default=160, help="sentences per decoder epoch (0: skip)")
    p.add_argument("--encoder-batch", type=int, default=32)
    p.add_argument("--decoder-batch", type=int, default=16)
    p.add_argument(
        "--ablations", action="store_true", help="also hf+bf16, hf+grouped, seqlab-pad1 and seqlab+eager (attention)"
    )
    p.add_argument("--arms", nargs="+", default=None, help="only these arms (hf, the reference, always runs)")
    return common.parse(p, argv, __file__)


# ------------------------------------------------------------------------------------------- arms


class _Clock:
    """Trainer callback: wall time from the first step's start to the last step's end (no set-up, no save)."""

    def __init__(self) -> None:
        from transformers import TrainerCallback

        clock = self

        class CB(TrainerCallback):
            def on_train_begin(self, args, state, control, **kw):
                clock.start = time.perf_counter()

            def on_train_end(self, args, state, control, **kw):
                clock.end = time.perf_counter()
                clock.steps = state.global_step

        self.callback = CB()
        self.start = self.end = 0.0
        self.steps = 0


def _train(trainer, model) -> dict[str, float]:
    counter = common.TokenCounter(model)
    clock = _Clock()
    trainer.add_callback(clock.callback)
    trainer.train()
    counter.remove()
    seconds = clock.end - clock.start
    return {
        "seconds": seconds,
        "steps": clock.steps,
        "real_tokens": counter.real,
        "padded_tokens": counter.padded,
        "tokens_per_s": counter.real / seconds,
    }


def hf_features(sentences, tokenizer, labels, max_length: int) -> list[dict]:
    """run_ner's tokenize_and_align_labels: is_split_into_words, first subword labelled, the rest -100."""
    enc = tokenizer([s.tokens for s in sentences], is_split_into_words=True, truncation=True, max_length=max_length)
    rows = []
    for i, s in enumerate(sentences):
        ids = [labels.id(t) if t in labels else 0 for t in s.tags]
        prev, lab = None, []
        for w in enc.word_ids(i):
            lab.append(-100 if w is None or w == prev else ids[w])
            prev = w
        rows.append({"input_ids": enc["input_ids"][i], "attention_mask": enc["attention_mask"][i], "labels": lab})
    return rows


def hf_arm(spec, data, out: Path, bf16: bool = False, grouped: bool = False):
    """The usual recipe on the spec's model, data, batch, lr, seed and epochs (optionally one change)."""
    from datasets import Dataset
    from transformers import (
        AutoModelForTokenClassification,
        AutoTokenizer,
        DataCollatorForTokenClassification,
        Trainer,
        TrainingArguments,
    )

    from seqlab_spec.models.encoder import lora_config
    from seqlab_spec.models.registry import resolve

    path = resolve(spec.model.name).path
    labels = data.labels
    t = spec.train

    def arm() -> dict[str, float]:
        import torch

        torch.manual_seed(t.seed)
        tok = AutoTokenizer.from_pretrained(path)
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        feats = hf_features(data.splits["train"], tok, labels, t.max_length)
        model = AutoModelForTokenClassification.from_pretrained(
            path,
            num_labels=len(labels),
            id2label=dict(enumerate(labels.labels)),
            label2id={lab: i for i, lab in enumerate(labels.labels)},
        )
        model.config.pad_token_id = tok.pad_token_id
        if spec.model.peft.method == "lora":
            from peft import get_peft_model

            peft_spec = spec.model.peft
            if peft_spec.target_modules == "all-linear":
                # the tagger's all-linear (its backbone has no head): the seven projections; peft's own
                # all-linear on *ForTokenClassification also wraps the `score` head, which TOKEN_CLS then
                # refuses to train as a module to save
                peft_spec = peft_spec.model_copy(update={"target_modules": DECODER_LINEAR})
            model = get_peft_model(model, lora_config(peft_spec, "TOKEN_CLS"))
        args = TrainingArguments(
            output_dir=str(out / "hf"),
            per_device_train_batch_size=t.batch_size,
            learning_rate=t.lr,
            num_train_epochs=t.epochs,
            seed=t.seed,
            bf16=bf16,
            train_sampling_strategy="group_by_length" if grouped else "random",
            save_strategy="no",
            report_to="none",
            disable_tqdm=True,
            logging_steps=10**6,
            use_cpu=True,
        )
        trainer = Trainer(
            model=model,
            args=args,
            train_dataset=Dataset.from_list(feats),
            data_collator=DataCollatorForTokenClassification(tok),
        )
        row = _train(trainer, model)
        _counts[f"hf{'+bf16' if bf16 else ''}{'+grouped' if grouped else ''}"] = common.param_counts(model)
        return row

    return arm


def seqlab_arm(spec, data, out: Path, pad_multiple: int | None = 8):
    """The library's path: the same objects `seqlab-spec run --no-notebook` trains. `pad_multiple=None`: the
    same with the collator padding to the longest sentence only (the library pads to a multiple of 8)."""
    from seqlab_spec.pipelines.tagger import build_model
    from seqlab_spec.training.train import PadBatch, build_trainer, tagging_features

    name = "seqlab" if pad_multiple == 8 else "seqlab-pad1"
    if spec.model.attn_implementation == "eager":
        name += "+eager"

    def arm() -> dict[str, float]:
        model, tok = build_model(spec, data.labels)
        feats = tagging_features(data.splits["train"], tok, data.labels, spec.train.max_length)
        collator = None if pad_multiple == 8 else PadBatch(tok.pad_token_id, pad_to_multiple_of=None)
        trainer = build_trainer(spec, model, tok, feats, None, data.labels, out / name, collator=collator)
        row = _train(trainer, model)
        _counts[name] = common.param_counts(model)
        return row

    return arm


_counts: dict[str, dict[str, int]] = {}


def peak_arm(dtype: str, n: int):
    def arm() -> dict[str, float]:
        return {"flops_per_s": common.matmul_flops(dtype, n)}

    return arm


# ------------------------------------------------------------------------------------------- one model


def bench_model(
    name: str, spec, rounds: int, ablations: bool, peak_n: int, only: list[str] | None = None
) -> dict[str, Any]:
    from seqlab_spec.pipelines.common import prepare_data
    from seqlab_spec.training.precision import resolve_precision

    data = prepare_data(spec)
    out = Path(tempfile.mkdtemp(prefix=f"bench-train-{name}-"))
    arms = {"hf": hf_arm(spec, data, out)}
    if ablations:
        arms["hf+bf16"] = hf_arm(spec, data, out, bf16=True)
        arms["hf+grouped"] = hf_arm(spec, data, out, grouped=True)
    arms["seqlab"] = seqlab_arm(spec, data, out)
    if ablations:
        arms["seqlab-pad1"] = seqlab_arm(spec, data, out, pad_multiple=None)
    if ablations and spec.method.name == "unmask":  # the decoder tagger honours model.attn_implementation
        eager = spec.model_copy(update={"model": spec.model.model_copy(update={"attn_implementation": "eager"})})
        arms["seqlab+eager"] = seqlab_arm(eager, data, out)
    if only:
        arms = {k: v for k, v in arms.items() if k == "hf" or k in only}
    arms["peak_fp32"] = peak_arm("fp32", peak_n)
    arms["peak_bf16"] = peak_arm("bf16", peak_n)
    print(f"{name}: {len(data.splits['train'])} sentences, batch {spec.train.batch_size}", flush=True)
    samples = common.alternate(arms, rounds)
    auto = resolve_precision("auto")
    precision = {"hf": "fp32", "hf+bf16": "bf16", "hf+grouped": "fp32", "seqlab": auto, "seqlab-pad1": auto}
    precision["seqlab+eager"] = auto
    res: dict[str, Any] = {
        "model": spec.model.name,
        "peft": spec.model.peft.method,
        "sentences": len(data.splits["train"]),
        "batch_size": spec.train.batch_size,
        "max_length": spec.train.max_length,
        "lr": spec.train.lr,
        "seqlab_precision": precision["seqlab"],
        "params": _counts,
        "arms": {},
        "ratios": {},
    }
    for arm in arms:
        if arm.startswith("peak"):
            res["arms"][arm] = {"flops_per_s_noisy": common.summary([s["flops_per_s"] for s in samples[arm]])}
            continue
        rows = samples[arm]
        fpt = common.train_flops_per_token(_counts[arm])
        peak = "peak_bf16" if precision[arm] == "bf16" else "peak_fp32"
        useful = [r["real_tokens"] * fpt / r["seconds"] for r in rows]
        executed = [r["padded_tokens"] * fpt / r["seconds"] for r in rows]
        res["arms"][arm] = {
            "precision": precision[arm],
            "steps": rows[0]["steps"],
            "real_tokens": rows[0]["real_tokens"],
            "padded_tokens": rows[0]["padded_tokens"],
            "pad_fraction": 1 - rows[0]["real_tokens"] / rows[0]["padded_tokens"],
            "seconds_noisy": common.summary([r["seconds"] for r in rows]),
            "tokens_per_s_noisy": common.summary([r["tokens_per_s"] for r in rows]),
            "sentences_per_s_noisy": common.summary([len(data.splits["train"]) / r["seconds"] for r in rows]),
            "flops_per_token": fpt,
            "useful_flops_per_s_noisy": common.summary(useful),
            # fraction of the peak measured in the same round, next to this arm
            "mfu_vs_own_precision_peak": common.summary(
                [u / s["flops_per_s"] for u, s in zip(useful, samples[peak], strict=True)]
            ),
            "mfu_vs_fp32_peak": common.summary(
                [u / s["flops_per_s"] for u, s in zip(useful, samples["peak_fp32"], strict=True)]
            ),
            "mfu_vs_bf16_peak": common.summary(
                [u / s["flops_per_s"] for u, s in zip(useful, samples["peak_bf16"], strict=True)]
            ),
            "executed_flops_per_s_noisy": common.summary(executed),
        }
        if arm != "hf":
            res["ratios"][f"{arm}/hf tokens_per_s"] = common.paired_ratio(samples, arm, "hf", "tokens_per_s")
            res["ratios"][f"{arm}/hf sentences_per_s"] = common.summary(
                [b["seconds"] / a["seconds"] for a, b in zip(samples[arm], samples["hf"], strict=True)]
            )
    for variant in ("seqlab-pad1", "seqlab+eager"):
        if variant in samples and "seqlab" in samples:
            res["ratios"][f"{variant}/seqlab tokens_per_s"] = common.paired_ratio(
                samples, variant, "seqlab", "tokens_per_s"
            )
    res["ratios"]["peak bf16/fp32"] = common.paired_ratio(samples, "peak_bf16", "peak_fp32", "flops_per_s")
    return res


def _merge(old: dict | None, new: dict[str, Any], args, commands: dict[str, Any], part: str) -> dict[str, Any]:
    """With --arms, the arms not rerun are kept from the earlier result of the same setting (each arm's ratio
    was paired with the `hf` arm of its own run); the commands of both runs are recorded."""
    same = old is not None and all(old.get(k) == new[k] for k in ("model", "sentences", "batch_size", "lr"))
    if not args.arms or not same:
        commands[part] = args.command
        return new
    merged = {**old, "arms": {**old["arms"], **new["arms"]}, "ratios": {**old["ratios"], **new["ratios"]}}
    merged["params"] = {**old.get("params", {}), **new["params"]}
    before = commands.get(part)
    commands[part] = [*(before if isinstance(before, list) else [before] if before else []), args.command]
    return merged


def _earlier(args) -> dict[str, Any]:
    import json

    path = Path(args.out) / f"train_throughput{'.tiny' if args.tiny else ''}.json"
    if not path.exists():
        return {}
    doc = json.loads(path.read_text())
    old = doc.get("results", {})
    old.setdefault("commands", {part: doc.get("command") for part in ("encoder", "decoder") if part in old})
    return old


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    common.setup_env(args)
    from seqlab_spec.spec.load import load_spec

    tmp = Path(tempfile.mkdtemp(prefix="bench-train-"))
    rounds = args.rounds or (1 if args.tiny else 2)
    peak_n = 256 if args.tiny else 2048
    results: dict[str, Any] = {"flop_formula": FLOP_FORMULA, "peak_matmul_size": peak_n}
    earlier = _earlier(args)  # a part this run skips (--encoder-train 0 / --decoder-train 0) is kept from it
    results["commands"] = earlier.get("commands", {})
    for part, n in (("encoder", args.encoder_train), ("decoder", args.decoder_train)):
        if not n and part in earlier:
            results[part] = earlier[part]
    common_sets = ["train.epochs=1", "train.eval_every=never", "train.select_best=false", "train.logging_steps=1000"]
    if args.encoder_train:
        n = 24 if args.tiny else args.encoder_train
        sets = [*common_sets, f"data.limit.train={n}", f"train.batch_size={8 if args.tiny else args.encoder_batch}"]
        if args.tiny:
            sets.append(f"model.name={save_tiny_encoder(tmp / 'tiny-bert')}")
        spec = load_spec(common.spec_path("encoder_conll03_cpu.yaml"), sets)
        new = bench_model("encoder", spec, rounds, args.ablations or bool(args.arms), peak_n, args.arms)
        results["encoder"] = _merge(earlier.get("encoder"), new, args, results["commands"], "encoder")
        common.write_result("train_throughput", args, results, [FLOP_FORMULA])
    if args.decoder_train:
        n = 16 if args.tiny else args.decoder_train
        sets = [
            *common_sets,
            f"data.limit.train={n}",
            f"train.batch_size={8 if args.tiny else args.decoder_batch}",
            "method.unmask=0000",
        ]
        if args.tiny:
            sets += [f"model.name={save_tiny_decoder(tmp / 'tiny-llama')}", "model.peft.r=4"]
        spec = load_spec(common.spec_path("unmask_conll03_cpu.yaml"), sets)
        new = bench_model("decoder", spec, rounds, args.ablations or bool(args.arms), peak_n, args.arms)
        results["decoder"] = _merge(earlier.get("decoder"), new, args, results["commands"], "decoder")
    common.write_result("train_throughput", args, results, [FLOP_FORMULA])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
