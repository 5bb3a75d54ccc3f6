"""QLoRA loading arguments (bitsandbytes, CUDA only): refused clearly without them, NF4 + double quantization
with them (CUDA and bitsandbytes faked: the CPU machine has neither)."""

from __future__ import annotations

import pytest
import torch

from seqlab_spec.errors import NotAvailableError
from seqlab_spec.spec.model import ModelSpec


def test_quantization_needs_cuda_and_bitsandbytes(monkeypatch) -> None:
    import importlib.util

    from seqlab_spec.models import quantization

    assert quantization.quantization_config("none") is None
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(NotAvailableError, match="needs a CUDA GPU"):
        quantization.quantization_config("4bit")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "bitsandbytes" else real(n, *a))
    with pytest.raises(NotAvailableError, match=r"needs bitsandbytes: pip install 'seqlab-spec\[cuda\]'"):
        quantization.quantization_config("4bit")
    # with bitsandbytes present: NF4, double quantization, bf16 matmuls (QLoRA)
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: object() if n == "bitsandbytes" else real(n, *a))
    q = quantization.quantization_config("4bit", "bf16")
    assert (q.load_in_4bit, q.bnb_4bit_quant_type, q.bnb_4bit_use_double_quant) == (True, "nf4", True)
    assert q.bnb_4bit_compute_dtype == torch.bfloat16
    assert quantization.quantization_config("8bit").load_in_8bit
    # what from_pretrained gets: the config, on this process's GPU (its rank's, under torchrun); nothing for none
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 3)
    kwargs = quantization.quantization_kwargs(ModelSpec(name="smollm2-135m", quantization="4bit"), "fp16")
    assert kwargs["device_map"] == {"": 3} and kwargs["quantization_config"].bnb_4bit_compute_dtype == torch.float16
    assert quantization.quantization_kwargs(ModelSpec(name="smollm2-135m")) == {}
