"""The spec's optimizer settings reach the Trainer; weight decay skips norms and biases; 8-bit AdamW needs CUDA;
the thesis's GPU spec carries the thesis's values; the batch orders."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import spec_env

from seqlab_spec.errors import NotAvailableError
from seqlab_spec.spec import Spec
from seqlab_spec.spec.load import load_spec

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "specs" / "quickstart.yaml"


def _spec(**train) -> Spec:
    return Spec.model_validate({"name": "t", "model": {"name": "minilm-l6"}, "train": train})


def test_every_optimizer_field_reaches_training_arguments(tmp_path: Path) -> None:
    from seqlab_spec.training.train import training_arguments

    spec = _spec(
        optim="adamw_torch",
        lr_scheduler="cosine",
        adam_beta1=0.8,
        adam_beta2=0.95,
        adam_epsilon=1e-5,
        weight_decay=0.1,
        warmup_ratio=0.03,
        batch_order="length",
    )
    args = training_arguments(spec, tmp_path, has_dev=False)
    assert (args.optim, args.lr_scheduler_type) == ("adamw_torch", "cosine")
    assert (args.adam_beta1, args.adam_beta2, args.adam_epsilon, args.weight_decay) == (0.8, 0.95, 1e-5, 0.1)
    assert args.warmup_steps == 0.03
    assert (args.batch_order, args.train_sampling_strategy) == ("length", "group_by_length")
    default = training_arguments(_spec(), tmp_path, has_dev=False)
    assert (default.optim, default.lr_scheduler_type) == ("adamw_torch_fused", "linear")  # the Trainer's defaults
    assert (default.adam_beta1, default.adam_beta2, default.adam_epsilon) == (0.9, 0.999, 1e-8)
    assert (default.batch_order, default.train_sampling_strategy) == ("bucketed", "group_by_length")
    assert training_arguments(_spec(batch_order="random"), tmp_path, has_dev=False).train_sampling_strategy == "random"


def test_cosine_schedule_reaches_the_trainer(tmp_path: Path) -> None:
    """The Trainer's scheduler follows lr_scheduler: cosine is at half the peak halfway through."""
    from seqlab_spec.training.train import training_arguments

    args = training_arguments(_spec(lr_scheduler="cosine", lr=1.0, max_steps=10), tmp_path, has_dev=False)
    from transformers import Trainer

    trainer = Trainer(model=torch.nn.Linear(2, 2), args=args)
    trainer.create_optimizer_and_scheduler(num_training_steps=10)
    lrs = []
    for _ in range(10):
        lrs.append(trainer.lr_scheduler.get_last_lr()[0])
        trainer.optimizer.step()
        trainer.lr_scheduler.step()
    assert lrs[0] == 1.0 and lrs[5] == pytest.approx(0.5) and lrs[9] == pytest.approx(0.0245, abs=1e-3)


@pytest.fixture(scope="module")
def lora_llama_tagger(tmp_path_factory):
    from seqlab_spec.data.labels import LabelSet
    from seqlab_spec.models.decoder_tagger import build_decoder_tagger
    from seqlab_spec.models.tiny import save_tiny_decoder

    path = save_tiny_decoder(tmp_path_factory.mktemp("llama"), layers=2)
    spec = Spec.model_validate(
        {
            "name": "t",
            "model": {
                "name": str(path),
                "peft": {"method": "lora", "r": 4, "alpha": 16, "target_modules": ["q_proj", "v_proj"]},
            },
            "method": {"name": "unmask", "unmask": "01"},
            "train": {"weight_decay": 0.1, "optim": "adamw_torch"},
        }
    )
    model, _ = build_decoder_tagger(spec, LabelSet(["PER"]))
    return spec, model


def test_weight_decay_skips_norms_and_biases_of_a_lora_llama_tagger(lora_llama_tagger, tmp_path: Path) -> None:
    """Exactly the LoRA matrices and the head's weight decay; the head's bias does not; the (frozen) RMSNorms
    are excluded by name, as are all biases, in the Trainer's optimizer groups as in decay_parameter_names."""
    from seqlab_spec.training.train import decay_parameter_names, training_arguments

    spec, model = lora_llama_tagger
    names = set(decay_parameter_names(model))
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    lora = {
        f"backbone.base_model.model.layers.{i}.self_attn.{m}.lora_{ab}.default.weight"
        for i in range(2)
        for m in ("q_proj", "v_proj")
        for ab in "AB"
    }
    assert trainable & names == lora | {"head.weight"}
    assert trainable - names == {"head.bias"}
    norms = {n for n, _ in model.named_parameters() if "norm" in n}
    assert norms == {
        *(
            f"backbone.base_model.model.layers.{i}.{k}.weight"
            for i in range(2)
            for k in ("input_layernorm", "post_attention_layernorm")
        ),
        "backbone.base_model.model.norm.weight",
    }
    assert not norms & names

    from transformers import Trainer

    trainer = Trainer(model=model, args=training_arguments(spec, tmp_path, has_dev=False))
    opt = trainer.create_optimizer()
    by_id = {id(p): n for n, p in model.named_parameters()}
    groups = {g["weight_decay"]: {by_id[id(p)] for p in g["params"]} for g in opt.param_groups}
    assert groups == {0.1: lora | {"head.weight"}, 0.0: {"head.bias"}}


def test_eight_bit_adamw_on_a_cpu_fails_in_preflight_in_one_line(monkeypatch) -> None:
    from seqlab_spec.runner import preflight

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    spec = load_spec(QUICKSTART, ["train.optim=paged_adamw_8bit"])
    with pytest.raises(NotAvailableError) as err:
        preflight.preflight([spec])
    assert str(err.value) == (
        "train.optim: paged_adamw_8bit needs bitsandbytes on a CUDA GPU and this machine has none: "
        "set train.optim: adamw_torch (--set train.optim=adamw_torch) or run on a GPU"
    )


def test_unmask_gpu_spec_carries_the_thesis_recipe() -> None:
    from seqlab_spec.runner.sweep import expand

    spec = load_spec(ROOT / "specs" / "unmask_conll03_gpu.yaml", env=spec_env())
    t, p = spec.train, spec.model.peft
    assert (t.optim, t.adam_beta1, t.adam_beta2, t.adam_epsilon, t.weight_decay) == (
        "paged_adamw_8bit",
        0.9,
        0.95,
        1e-5,
        0.1,
    )
    assert (t.lr_scheduler, t.max_steps, t.batch_size, t.grad_accum, t.lr, t.epochs) == (
        "cosine",
        -1,
        16,
        4,
        2e-4,
        5,
    )
    assert (p.method, p.r, p.alpha, p.dropout, p.target_modules) == ("lora", 64, 16, 0.1, ["q_proj", "v_proj"])
    assert spec.model.quantization == "4bit"
    runs = expand(spec)
    assert sorted({r.train.seed for r in runs}) == [120, 121, 122, 123, 124]
    assert len(runs) == 5 * 3  # 5 seeds x patterns 0000, 0110, 1111


@pytest.mark.parametrize("name", ["unmask_conll03_gpu.yaml", "sift_conll03_gpu.yaml", "oie_maven_gpu.yaml"])
def test_gpu_specs_validate_portably_from_the_cli(name: str, capsys, monkeypatch) -> None:
    from seqlab_spec.cli import main

    monkeypatch.setenv("SEQLAB_DATA", spec_env()["SEQLAB_DATA"])
    assert main(["validate", "--portable", str(ROOT / "specs" / name)]) == 0


# ------------------------------------------------------------------------------------------- batch order


def test_bucketed_batches_are_sorted_pools_in_seeded_random_order() -> None:
    from seqlab_spec.training.ordering import POOL_BATCHES, BucketedSampler, bucketed_batches, epoch_generator

    g = torch.Generator().manual_seed(0)
    lengths = torch.randint(1, 60, (POOL_BATCHES * 4 * 3 + 5,), generator=g).tolist()  # 2 pools of 4 + a short
    batches = bucketed_batches(lengths, 4, epoch_generator(1, 0))
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(len(lengths)))
    assert [len(b) for b in batches] == [4] * (len(lengths) // 4) + [1]  # the short batch last
    # each batch is a run of a length-sorted pool: far less spread of lengths inside a batch than random batches
    spread_bucketed = sum(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches)
    perm = torch.randperm(len(lengths), generator=g).tolist()
    random = [perm[j : j + 4] for j in range(0, len(perm), 4)]
    spread_random = sum(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in random)
    assert spread_bucketed * 5 < spread_random
    # consecutive batches are not walked from long to short: the batch maxima are not monotone
    maxima = [max(lengths[i] for i in b) for b in batches[:POOL_BATCHES]]
    assert maxima != sorted(maxima) and maxima != sorted(maxima, reverse=True)

    sampler = BucketedSampler(lengths, 4, seed=1)
    first = list(sampler)
    assert first == flat  # epoch 0 of seed 1
    sampler.set_epoch(1)
    assert list(sampler) != first
    sampler.set_epoch(0)
    assert list(sampler) == first  # a function of (seed, epoch) alone: a resumed run redraws it
    assert list(BucketedSampler(lengths, 4, seed=2)) != first


def test_trainer_draws_bucketed_batches_per_spec(tmp_path: Path) -> None:
    from datasets import Dataset

    from seqlab_spec.training.ordering import BucketedSampler, OrderedTrainer
    from seqlab_spec.training.train import training_arguments

    data = Dataset.from_list([{"input_ids": [1] * n, "length": n} for n in range(1, 41)])
    for order, kind in [
        ("bucketed", "BucketedSampler"),
        ("length", "LengthGroupedSampler"),
        ("random", "RandomSampler"),
    ]:
        args = training_arguments(_spec(batch_order=order, batch_size=4, seed=3), tmp_path, has_dev=False)
        sampler = OrderedTrainer(model=torch.nn.Linear(2, 2), args=args, train_dataset=data)._get_train_sampler()
        assert type(sampler).__name__ == kind
    assert isinstance(sampler, torch.utils.data.RandomSampler)
    args = training_arguments(_spec(batch_size=4, seed=3), tmp_path, has_dev=False)
    sampler = OrderedTrainer(model=torch.nn.Linear(2, 2), args=args, train_dataset=data)._get_train_sampler()
    assert isinstance(sampler, BucketedSampler) and (sampler.seed, sampler.batch_size) == (3, 4)
    assert sampler.lengths == list(range(1, 41))
