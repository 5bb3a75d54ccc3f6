"""Pick the numeric precision: bf16 autocast is the largest speed lever on AMX CPUs and recent GPUs."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import torch


@cache
def cpu_has_fast_bf16() -> bool:
    """AMX or AVX-512 BF16: bf16 matmuls run several times faster than fp32 there (slower elsewhere)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def resolve_precision(requested: str) -> str:
    """`auto` -> bf16 where the device has it, fp16 on older GPUs (e.g. a Colab T4), else fp32."""
    if requested != "auto":
        return requested
    if torch.cuda.is_available():
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "bf16" if cpu_has_fast_bf16() else "fp32"


def autocast_dtype(precision: str) -> torch.dtype | None:
    return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
