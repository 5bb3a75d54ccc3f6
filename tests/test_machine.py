"""What this machine can run, asked of one module (seqlab_spec/machine.py) in one style: rows that name the
setting first, then what is missing and the fix. CUDA and packages are faked absent (this machine may have them)."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from seqlab_spec import machine
from seqlab_spec.errors import NotAvailableError
from seqlab_spec.spec.load import load_spec_text

SPEC = (
    "name: x\ndata: {format: conll, train: pkg:wnut17/wnut17train.conll, "
    "columns: {token: 0, label: 1, separator: tab}}\n"
    "model: {name: smollm2-135m, quantization: 4bit, peft: {method: lora}}\nmethod: {name: unmask, unmask: '0110'}\n"
    "train: {optim: paged_adamw_8bit, use_liger_kernel: true}\nrun: {report_to: [tensorboard, mlflow]}\n"
)


@pytest.fixture
def bare_cpu(monkeypatch):
    """No CUDA, and none of the optional packages a setting may need."""
    real = importlib.util.find_spec
    absent = {"bitsandbytes", "liger_kernel", "tensorboard", "mlflow"}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n in absent else real(n, *a))


def test_every_question_answers_with_rows_naming_the_setting_and_the_fix(bare_cpu) -> None:
    spec = load_spec_text(SPEC, env={})
    rows = machine.hardware_problems(spec) + machine.train_problems(spec) + machine.tracking_problems(spec)
    assert rows == [
        "model.quantization: '4bit' needs a CUDA GPU (bitsandbytes); this machine has none: set quantization: none "
        "(LoRA still works on CPU)",
        "train.optim: paged_adamw_8bit needs bitsandbytes on a CUDA GPU and this machine has none: "
        "set train.optim: adamw_torch (--set train.optim=adamw_torch) or run on a GPU",
        "train.use_liger_kernel: true needs the liger-kernel package, which is not installed: "
        "pip install liger-kernel (on a CUDA machine), or set train.use_liger_kernel: false",
        "run.report_to: tensorboard is not installed: pip install tensorboard (or pip install "
        "'seqlab-spec[tracking]'), or set run.report_to: none",
        "run.report_to: mlflow is not installed: pip install mlflow, or set run.report_to: none",
    ]
    with pytest.raises(NotAvailableError) as e:  # every train problem at once, one line each
        machine.check_train_switches(spec)
    assert str(e.value).splitlines() == rows[1:3]


def test_the_qlora_loader_refuses_with_the_row_validate_reports(bare_cpu) -> None:
    from seqlab_spec.models.quantization import quantization_config

    spec = load_spec_text(SPEC, env={})
    with pytest.raises(NotAvailableError) as e:
        quantization_config("4bit")
    assert [str(e.value)] == machine.hardware_problems(spec)


def test_a_machine_with_cuda_but_no_bitsandbytes_is_told_to_install_it(bare_cpu, monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    spec = load_spec_text(SPEC, env={})
    assert machine.hardware_problems(spec) == [
        "model.quantization: '4bit' needs bitsandbytes: pip install 'seqlab-spec[cuda]' (bitsandbytes==0.50.2), "
        "or set model.quantization: none"
    ]
    assert machine.train_problems(spec)[0].startswith("train.optim: paged_adamw_8bit needs bitsandbytes: pip install")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 3)
    assert (machine.device_kind(), machine.gpu_count()) == ("cuda", 3)
