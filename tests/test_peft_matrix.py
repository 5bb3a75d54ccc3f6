"""Every method x PEFT setting that validates runs: preflight, then a 2-step run through the library, with tiny
models. QLoRA is run with the GPU faked: preflight's CUDA check is skipped (hardware_problems) and the bitsandbytes
loading arguments are empty, so peft's k-bit preparation and the adapters run as on a GPU, on CPU weights.
Where a setting cannot run, it is refused when the spec is validated, with the fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT, TINY
from tiny_models import single_thread

from seqlab_spec.datasets import resolve as pkg
from seqlab_spec.errors import SpecError
from seqlab_spec.runner import preflight as preflight_module
from seqlab_spec.runner.execute import run_spec
from seqlab_spec.runner.preflight import preflight
from seqlab_spec.spec.load import load_spec

pytestmark = pytest.mark.slow

QUICKSTART = ROOT / "specs" / "quickstart.yaml"
SMALL = [*TINY, "data.limit.train=8", "data.limit.dev=4", "data.limit.test=4", "train.max_steps=2",
         "train.batch_size=4", "run.save_model=false", "run.notebook=null"]
METHODS = {
    "encoder": ["method={name: encoder}"],
    "unmask": ["method={name: unmask, unmask: '0110'}"],
    "sift": ["method={name: sift, k: 1, max_new_tokens: 4}", "train.precision=fp32"],
    "oie-multitask": [
        "method={name: oie-multitask, injection: none, regime: zero-shot, k: [2], n_samples: 1}",
        "signal={name: oie}",
        f"data.target={{train: {pkg('pkg:litbank_events/dev.bio.tsv')}, test: {pkg('pkg:litbank_events/test.bio.tsv')},"
        " limit: {train: 4, test: 4}}",
    ],
}
EXPLICIT = {"encoder": "[query, value]", "unmask": "[q_proj, v_proj]", "sift": "[q_proj, v_proj]",
            "oie-multitask": "[query, value]"}
PEFT = {
    "lora-default": lambda m: ["model.peft={method: lora, r: 4}"],
    "lora-explicit": lambda m: [f"model.peft={{method: lora, r: 4, target_modules: {EXPLICIT[m]}}}"],
    "qlora": lambda m: ["model.peft={method: lora, r: 4}", "model.quantization=4bit"],
}


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    from seqlab_spec.models.tiny import save_tiny_decoder, save_tiny_encoder

    d = tmp_path_factory.mktemp("peft_models")
    return {
        "encoder": save_tiny_encoder(d / "bert"),
        "unmask": save_tiny_decoder(d / "llama", max_positions=128),
        "sift": save_tiny_decoder(d / "llama-bpe", tokenizer="smollm2-135m", max_positions=1024),
    }


@pytest.mark.parametrize("peft", list(PEFT))
@pytest.mark.parametrize("method", list(METHODS))
def test_every_peft_setting_that_validates_runs(method, peft, models, tmp_path, monkeypatch):
    from seqlab_spec.models import generative, quantization

    model = models["encoder" if method == "oie-multitask" else method]
    sets = [*SMALL, *METHODS[method], f"model.name={model}", *PEFT[peft](method)]
    if peft == "qlora":
        if method in ("encoder", "oie-multitask"):
            with pytest.raises(SpecError) as e:
                load_spec(QUICKSTART, sets)
            assert e.value.rows == [
                "--set model.quantization=4bit  model.quantization  '4bit' is for the decoder methods (unmask, "
                f"sift); method {method} loads full weights: set model.quantization: none"
            ]
            return
        monkeypatch.setattr(quantization, "quantization_kwargs", lambda *a, **k: {})
        monkeypatch.setattr(generative, "quantization_kwargs", lambda *a, **k: {})
        monkeypatch.setattr(preflight_module, "hardware_problems", lambda spec: [])
        spec = load_spec(QUICKSTART, sets)
    else:
        spec = load_spec(QUICKSTART, sets)
    preflight([spec])
    with single_thread():
        (run_dir,) = run_spec(spec, tmp_path, use_notebook=False)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert {"dev", "test"} <= set(metrics)
    log = [json.loads(line) for line in (run_dir / "train_log.jsonl").read_text().splitlines()]
    assert any(r.get("step") == 2 for r in log)


def test_encoder_lora_default_adapts_the_backbone_and_trains_the_head_fully():
    from seqlab_spec.data.labels import LabelSet
    from seqlab_spec.models.encoder import build_encoder
    from seqlab_spec.spec.model import ModelSpec

    model, _, _ = build_encoder(ModelSpec(name="minilm-l6", peft={"method": "lora", "r": 2}), LabelSet(["PER"]))
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    head = [n for n in trainable if ".classifier." in n]
    assert head == ["base_model.model.classifier.modules_to_save.default.weight",
                    "base_model.model.classifier.modules_to_save.default.bias"]
    adapters = [n for n in trainable if n not in head]
    assert adapters and all(".bert.encoder." in n and (".lora_A." in n or ".lora_B." in n) for n in adapters)
    # every linear layer of the backbone has an adapter: 6 layers x (query, key, value, 3 dense)
    assert len(adapters) == 6 * 6 * 2
