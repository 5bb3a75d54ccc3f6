"""What this machine can run, asked in one place: a CUDA GPU (QLoRA, bitsandbytes optimizers, Liger's kernels),
the packages a setting needs (bitsandbytes, liger-kernel, the tracking backends), and RAM or GPU memory enough to
train the spec's model.

One style: each `*_problems` returns rows "dotted.key: what this machine lacks ...: the fix" (empty: it can), the
setting named first so that load_spec can point a row at the key's line. Who asks:
- the commands pass `hardware_problems` to load_spec (`validate --portable` leaves it out: a GPU spec is valid on
  a laptop; it is no rule of the spec, which imports no torch);
- `preflight` raises every question's rows before a run folder exists;
- training asks again where a notebook may have skipped the preflight (`check_train_switches` in
  training_arguments, `quantization_problems` in the QLoRA loader); the notebooks call `device_summary` and
  `check_fits`.
torch is imported only by the questions that need it.

Will the model fit (`check_fits`)? Answered from the model's config alone, before a notebook loads any weights, so
that a small machine (a free Colab VM: ~12.7 GB of RAM, a 15 GB T4) stops with one line of advice instead of a
dead kernel. The estimate (bytes): weights (parameters counted on the meta device, no memory used) at their
stored width (4-bit 0.5 B, 8-bit 1 B, else the checkpoint's dtype, fp32 when it names none); full fine-tuning
adds a gradient (the weights' width) and Adam's two fp32 moments (8 B) per parameter, LoRA a negligible share;
plus `OVERHEAD` for the framework, activations of a small batch and the data. Rough on purpose: it is there to
catch a 7B model on a 12 GB machine, not to budget a few hundred MB.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass

from .errors import NotAvailableError
from .spec import Spec

GIB = 2**30
OVERHEAD = 1.5 * GIB
WIDTH = {"4bit": 0.5, "8bit": 1.0}
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2}
# The CPU-size shipped spec of each method: the advice when a spec is too big for a machine without a GPU.
CPU_SPECS = {
    "encoder": "encoder_wnut17_cpu",
    "unmask": "unmask_conll03_cpu",
    "sift": "sift_wnut17_cpu",
    "oie-multitask": "oie_tempeval_to_litbank",
}


# ------------------------------------------------------------------------------------------- what it has


def has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def device_kind() -> str:
    """"cuda" where a CUDA GPU is visible, else "cpu"."""
    return "cuda" if has_cuda() else "cpu"


def gpu_count() -> int:
    """Visible CUDA GPUs (0 without CUDA)."""
    import torch

    return torch.cuda.device_count() if has_cuda() else 0


def installed(package: str) -> bool:
    """Importable here, found without importing it."""
    return importlib.util.find_spec(package) is not None


def device_summary() -> str:
    """Print what this machine offers and return 'cuda' or 'cpu' (the notebooks size their defaults by it)."""
    from .training.precision import cpu_has_fast_bf16, resolve_precision

    if has_cuda():
        import torch

        print(f"GPU: {torch.cuda.get_device_name(0)}; precision auto -> {resolve_precision('auto')}")
        return "cuda"
    print(
        f"CPU only: {os.cpu_count()} cores; bf16 matmul units: {'yes' if cpu_has_fast_bf16() else 'no'} "
        f"(precision auto -> {resolve_precision('auto')}). Using the CPU-size spec."
    )
    return "cpu"


# ------------------------------------------------------------------------------------------- what a spec needs


def quantization_problems(quantization: str) -> list[str]:
    """model.quantization (QLoRA, bitsandbytes) needs a CUDA GPU and the bitsandbytes package."""
    if quantization == "none":
        return []
    if not has_cuda():
        return [
            f"model.quantization: {quantization!r} needs a CUDA GPU (bitsandbytes); "
            "this machine has none: set quantization: none (LoRA still works on CPU)"
        ]
    if not installed("bitsandbytes"):
        return [
            f"model.quantization: {quantization!r} needs bitsandbytes: pip install 'seqlab-spec[cuda]' "
            "(bitsandbytes==0.50.2), or set model.quantization: none"
        ]
    return []


def hardware_problems(spec: Spec) -> list[str]:
    """What the spec's model asks of this machine (QLoRA: CUDA and bitsandbytes): the check the commands pass to
    load_spec, which points each row at its key (`seqlab-spec validate --portable` skips it)."""
    return quantization_problems(spec.model.quantization)


def train_problems(spec: Spec) -> list[str]:
    """The train settings that need what this machine may lack: a bitsandbytes optimizer (`train.optim`: 8-bit
    or paged AdamW) needs CUDA and bitsandbytes; `train.use_liger_kernel` the liger-kernel package and a CUDA
    device (Liger's kernels are Triton GPU kernels)."""
    from .spec.train import BITSANDBYTES_OPTIMIZERS

    rows = []
    optim = spec.train.optim
    if optim in BITSANDBYTES_OPTIMIZERS and not has_cuda():
        rows.append(
            f"train.optim: {optim} needs bitsandbytes on a CUDA GPU and this machine has none: "
            f"set train.optim: adamw_torch (--set train.optim=adamw_torch) or run on a GPU"
        )
    elif optim in BITSANDBYTES_OPTIMIZERS and not installed("bitsandbytes"):
        rows.append(
            f"train.optim: {optim} needs bitsandbytes: pip install 'seqlab-spec[cuda]' (bitsandbytes==0.50.2), "
            f"or set train.optim: adamw_torch"
        )
    if spec.train.use_liger_kernel and not installed("liger_kernel"):
        rows.append(
            "train.use_liger_kernel: true needs the liger-kernel package, which is not installed: "
            "pip install liger-kernel (on a CUDA machine), or set train.use_liger_kernel: false"
        )
    elif spec.train.use_liger_kernel and not has_cuda():
        rows.append(
            "train.use_liger_kernel: true runs Liger's GPU (Triton) kernels, and this machine has no CUDA device: "
            "set train.use_liger_kernel: false"
        )
    return rows


def tracking_problems(spec: Spec) -> list[str]:
    """Each `run.report_to` backend's package is installed."""
    from .training.tracking import PACKAGES, backends

    rows = []
    for name in backends(spec):
        if not installed(PACKAGES[name]):
            extra = " (or pip install 'seqlab-spec[tracking]')" if name == "tensorboard" else ""
            rows.append(
                f"run.report_to: {name} is not installed: pip install {PACKAGES[name]}{extra}, "
                "or set run.report_to: none"
            )
    return rows


def require(rows: list[str]) -> None:
    """Raise the rows of a `*_problems` question as one NotAvailableError (one line each); nothing when empty."""
    if rows:
        raise NotAvailableError("\n".join(rows))


def check_train_switches(spec: Spec) -> None:
    """`train_problems` as a NotAvailableError, before any model is loaded (preflight, training_arguments)."""
    require(train_problems(spec))


# ------------------------------------------------------------------------------------------- will the model fit


@dataclass(frozen=True)
class Fit:
    """What a run of the spec needs and what the machine has (bytes; `have` None where it cannot tell)."""

    params: int
    need: float
    have: float | None
    where: str  # "GPU memory" or "RAM"

    @property
    def fits(self) -> bool:
        return self.have is None or self.need <= self.have


def model_config(spec: Spec):
    """The model's config (config.json only: no weights)."""
    from transformers import AutoConfig

    from .models.registry import from_pretrained, resolve

    return from_pretrained(
        AutoConfig.from_pretrained,
        resolve(spec.model.name),
        revision=spec.model.revision,
        trust_remote_code=spec.model.trust_remote_code,
    )


def count_params(config) -> int:
    """Parameters of the model a config describes, built on the meta device (no memory, no weights read)."""
    from accelerate import init_empty_weights
    from transformers import AutoModel

    with init_empty_weights():
        model = AutoModel.from_config(config)
    return sum(p.numel() for p in model.parameters())


def training_bytes(spec: Spec, params: int, config) -> float:
    """Weights at their stored width, plus gradients and Adam moments for full fine-tuning, plus OVERHEAD."""
    dtype = str(getattr(config, "dtype", None) or getattr(config, "torch_dtype", None) or "float32")
    width = WIDTH.get(spec.model.quantization, DTYPE_BYTES.get(dtype.removeprefix("torch."), 4))
    full = spec.model.peft.method == "none"
    return params * (width + (width + 8 if full else 0)) + OVERHEAD


def machine_bytes(device: str) -> float | None:
    """Total memory of GPU 0, or the RAM available now (MemAvailable; the total where /proc is absent)."""
    if device == "cuda":
        import torch

        return float(torch.cuda.get_device_properties(0).total_memory)
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def estimate(spec: Spec, device: str, config=None) -> Fit:
    config = config if config is not None else model_config(spec)
    params = count_params(config)
    return Fit(
        params, training_bytes(spec, params, config), machine_bytes(device), "GPU memory" if device == "cuda" else "RAM"
    )


def advice(spec: Spec, device: str) -> str:
    if device == "cuda" and spec.model.quantization == "none":
        return "set model.quantization: 4bit (QLoRA), or a smaller model.name"
    if device == "cuda":
        return "use a smaller model.name or a GPU with more memory"
    cpu = CPU_SPECS.get(spec.method.name, "quickstart")
    return f"use the CPU-size spec (spec_path = shipped_spec({cpu!r}), specs/{cpu}.yaml) or a machine with a GPU"


def check_fits(spec: Spec, device: str, config=None) -> Fit:
    """Print one line on what training `spec` needs here; raise NotAvailableError, with the spec or setting to use
    instead, when it does not fit. `config`: the model's config when already loaded (else read here)."""
    fit = estimate(spec, device, config)
    have = f"{fit.have / GIB:.1f} GiB" if fit.have is not None else "an unknown amount"
    line = (
        f"{spec.model.name}: {fit.params / 1e9:.2f} B parameters; training needs about {fit.need / GIB:.1f} GiB "
        f"of {fit.where}, this machine has {have}"
    )
    if not fit.fits:
        raise NotAvailableError(f"{line}: {advice(spec, device)}")
    print(f"{line}: fits")
    return fit
