"""The memory check the notebooks run before loading a model: parameters counted from the config alone, the
estimate's arithmetic, and the one-line advice when a spec does not fit the machine."""

from __future__ import annotations

import pytest
from transformers import LlamaConfig

from seqlab_spec import machine
from seqlab_spec.errors import NotAvailableError
from seqlab_spec.spec.load import load_spec_text

GIB = 2**30
LLAMA_7B = LlamaConfig(dtype="float16")  # the defaults are Llama-2-7B's shape
BASE = (
    "name: x\ndata: {format: conll, train: pkg:wnut17/wnut17train.conll, "
    "columns: {token: 0, label: 1, separator: tab}}\n"
)


def _spec(model: str, method: str = "method: {name: unmask, unmask: '0110'}"):
    return load_spec_text(f"{BASE}model: {model}\n{method}\n", env={})


def test_llama_2_7b_counted_on_the_meta_device_and_its_training_bytes() -> None:
    params = machine.count_params(LLAMA_7B)
    assert params == 6_607_343_616  # Llama-2-7B without its LM head (AutoModel: the backbone a tagger trains)
    lora = _spec("{name: smollm2-135m, peft: {method: lora}}")
    assert machine.training_bytes(lora, params, LLAMA_7B) == params * 2 + machine.OVERHEAD  # fp16 weights
    full = _spec("{name: smollm2-135m}")
    assert machine.training_bytes(full, params, LLAMA_7B) == params * (2 + 2 + 8) + machine.OVERHEAD


def test_a_7b_model_on_a_free_colab_cpu_stops_with_the_spec_to_use_instead(monkeypatch, capsys) -> None:
    monkeypatch.setattr(machine, "machine_bytes", lambda device: 12.7 * GIB)
    spec = _spec("{name: smollm2-135m, peft: {method: lora}}")
    with pytest.raises(NotAvailableError) as e:
        machine.check_fits(spec, "cpu", LLAMA_7B)
    assert str(e.value) == (
        "smollm2-135m: 6.61 B parameters; training needs about 13.8 GiB of RAM, this machine has 12.7 GiB: "
        "use the CPU-size spec (spec_path = shipped_spec('unmask_conll03_cpu'), specs/unmask_conll03_cpu.yaml) "
        "or a machine with a GPU"
    )
    with pytest.raises(
        NotAvailableError, match=r"GPU memory, this machine has 12\.7 GiB: set model\.quantization: 4bit"
    ):
        machine.check_fits(spec, "cuda", LLAMA_7B)


def test_the_embedded_decoder_fits_and_says_so(monkeypatch, capsys) -> None:
    monkeypatch.setattr(machine, "machine_bytes", lambda device: 12.7 * GIB)
    got = machine.check_fits(_spec("{name: smollm2-135m, peft: {method: lora}}"), "cpu")
    assert got.fits and got.params == 134_515_008
    assert capsys.readouterr().out == (
        "smollm2-135m: 0.13 B parameters; training needs about 2.0 GiB of RAM, this machine has 12.7 GiB: fits\n"
    )
