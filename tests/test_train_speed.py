"""Training speed settings: token-budget batches (`train.batch_tokens`), the Trainer switches a spec sets
(dataloader workers, pinned memory, torch.compile, Liger) and the one-line error for a switch this machine
cannot honour."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
from conftest import ROOT, TINY

from seqlab_spec.errors import NotAvailableError
from seqlab_spec.machine import check_train_switches
from seqlab_spec.spec.load import load_spec
from seqlab_spec.training.ordering import TokenBudgetBatches
from seqlab_spec.training.train import training_arguments

QUICKSTART = ROOT / "specs" / "quickstart.yaml"
LENGTHS = [5, 30, 7, 7, 12, 40, 9, 11, 3, 25, 25, 8, 100, 6, 14]


def test_token_budget_batches_cover_every_sentence_once_within_the_budget() -> None:
    sampler = TokenBudgetBatches(LENGTHS, budget=50, seed=1)
    flat = sorted(i for b in sampler.batches for i in b)
    assert flat == list(range(len(LENGTHS)))
    for b in sampler.batches:
        longest = max(LENGTHS[i] for i in b)
        assert len(b) * longest <= 50 or len(b) == 1  # the 100-token sentence is a batch of its own
    # sorted buckets: each batch's lengths lie between its neighbours'
    spans = [(min(LENGTHS[i] for i in b), max(LENGTHS[i] for i in b)) for b in sampler.batches]
    assert spans == sorted(spans) and all(hi <= lo2 for (_, hi), (lo2, _) in zip(spans, spans[1:], strict=False))
    # by hand: 3 5 6 7 7 8 | 9 11 12 (+14: 4 x 14 > 50) | 14 25 | 25 (+30: 2 x 30 > 50) | 30 | 40 | 100
    assert [sorted(LENGTHS[i] for i in b) for b in sampler.batches] == [
        [3, 5, 6, 7, 7, 8],
        [9, 11, 12],
        [14, 25],
        [25],
        [30],
        [40],
        [100],
    ]
    assert len(sampler) == 7


def test_token_budget_order_is_a_function_of_seed_and_epoch() -> None:
    a, b = TokenBudgetBatches(LENGTHS, 50, seed=1), TokenBudgetBatches(LENGTHS, 50, seed=1)
    first = list(a)
    assert first == list(b) and sorted(map(sorted, first)) == sorted(map(sorted, a.batches))
    a.set_epoch(1)
    b.set_epoch(1)
    assert list(a) == list(b) != first  # each epoch its own order, the same for every run of the seed
    a.set_epoch(0)
    assert list(a) == first


def test_speed_switches_reach_the_trainer_arguments(tmp_path: Path) -> None:
    spec = load_spec(QUICKSTART, [*TINY, "train.dataloader_workers=2", "train.torch_compile=true"])
    args = training_arguments(spec, tmp_path, has_dev=False)
    assert (args.dataloader_num_workers, args.dataloader_persistent_workers, args.torch_compile) == (2, True, True)
    assert args.dataloader_pin_memory is torch.cuda.is_available()  # nothing to pin for on a CPU
    plain = training_arguments(load_spec(QUICKSTART, TINY), tmp_path, has_dev=False)
    assert (plain.dataloader_num_workers, plain.torch_compile, plain.use_liger_kernel) == (0, False, False)


@pytest.mark.skipif(importlib.util.find_spec("liger_kernel") is not None, reason="liger-kernel is installed here")
def test_liger_without_its_package_is_one_line_with_the_fix(tmp_path: Path) -> None:
    spec = load_spec(QUICKSTART, [*TINY, "train.use_liger_kernel=true"])
    with pytest.raises(NotAvailableError) as e:
        check_train_switches(spec)
    assert str(e.value) == (
        "train.use_liger_kernel: true needs the liger-kernel package, which is not installed: "
        "pip install liger-kernel (on a CUDA machine), or set train.use_liger_kernel: false"
    )
    with pytest.raises(NotAvailableError):
        training_arguments(spec, tmp_path, has_dev=False)  # a notebook that skips the preflight fails too


def test_a_run_with_a_token_budget_trains_on_unpadded_batches(tmp_path: Path, capsys) -> None:
    """The quickstart pipeline with `train.batch_tokens`: one step per budget batch, (almost) no padding."""
    from seqlab_spec.pipelines import tagger

    sets = [s for s in TINY if not s.startswith("train.max_steps")] + ["train.epochs=1", "train.batch_tokens=256"]
    spec = load_spec(QUICKSTART, [*sets, "run.save_model=false", "train.eval_every=never"])
    data = tagger.prepare_data(spec)
    model, tok = tagger.build_model(spec, data.labels)
    seen: list[torch.Tensor] = []
    model.register_forward_pre_hook(
        lambda m, a, kw: seen.append(kw["attention_mask"]) if m.training else None, with_kwargs=True
    )
    trainer = tagger.fit(spec, model, tok, data, tmp_path)
    n_batches = int(capsys.readouterr().out.split("train.batch_tokens=256: ")[1].split(" batches")[0])
    assert trainer.state.global_step == n_batches == len(seen)
    assert sum(int(m.shape[0]) for m in seen) == len(data.splits["train"])
    assert all(m.numel() <= 256 or m.shape[0] == 1 for m in seen)
    # padded to the batch's longest sentence only (not to a multiple of 8): sorted buckets need no more
    assert [m.shape[1] for m in seen] == [int(m.sum(1).max()) for m in seen]


@pytest.mark.parametrize("multiple", [8, None])
def test_pad_batch_equals_transformers_token_classification_collator(multiple) -> None:
    from transformers import DataCollatorForTokenClassification

    from seqlab_spec.data.labels import LabelSet
    from seqlab_spec.data.types import Sentence
    from seqlab_spec.models.registry import load_tokenizer, resolve
    from seqlab_spec.training.train import PadBatch, tagging_features

    tok = load_tokenizer(resolve("minilm-l6"))
    sents = [
        Sentence(["EU", "rejects", "German", "call"], ["B-ORG", "O", "B-MISC", "O"]),
        Sentence(["Peter"], ["B-PER"]),
    ]
    rows = tagging_features(sents, tok, LabelSet.from_sentences(sents, None), 64)
    ours = PadBatch(tok.pad_token_id, multiple)(rows)
    theirs = DataCollatorForTokenClassification(tok, pad_to_multiple_of=multiple)(
        [{k: r[k] for k in ("input_ids", "attention_mask", "labels")} for r in rows]
    )
    assert set(ours) == {"input_ids", "attention_mask", "labels"}
    for k in ours:
        assert torch.equal(ours[k], theirs[k]), k
    assert ours["input_ids"].shape[1] == (8 if multiple else max(r["length"] for r in rows))
