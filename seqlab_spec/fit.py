"""Will a spec's model fit this machine? Answered from the model's config alone, before a notebook loads any
weights, so that a small machine (a free Colab VM: ~12.7 GB of RAM, a 15 GB T4) stops with one line of advice
instead of a dead kernel.

The estimate (bytes): weights (parameters counted on the meta device, no memory used) at their stored width
(4-bit 0.5 B, 8-bit 1 B, else the checkpoint's dtype, fp32 when it names none); full fine-tuning adds a
gradient (the weights' width) and Adam's two fp32 moments (8 B) per parameter, LoRA a negligible share; plus
`OVERHEAD` for the framework, activations of a small batch and the data. Rough on purpose: it is there to
catch a 7B model on a 12 GB machine, not to budget a few hundred MB.
"""

from __future__ import annotations

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
