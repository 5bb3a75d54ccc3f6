"""Training examples (one prompt per training sentence) and the right-padding collator."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from test_sift_helpers import CORPUS, bpe_tokenizer, cfg, word_tokenizer
from tiny_models import tiny_causal_lm

from seqlab_spec.sift.collator import SiftCollator, build_train_examples
from seqlab_spec.sift.demos import DemoSelector
from seqlab_spec.sift.masks import IGNORE, build_labels, encode
from seqlab_spec.sift.prompt import build_prompt


def test_collator_pads_right_and_masks_pads_only() -> None:
    eos = 1
    feats = [
        {"input_ids": [5, 6, eos], "labels": [IGNORE, 6, eos], "n_demos": 2},
        {"input_ids": [7, eos, 8, 9, eos], "labels": [7, eos, 8, 9, eos], "n_demos": 0},
    ]
    batch = SiftCollator(pad_token_id=eos)(feats)  # pad == eos, as in SmolLM2
    assert batch["input_ids"].tolist() == [[5, 6, eos, eos, eos], [7, eos, 8, 9, eos]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]
    # the real eos tokens keep their loss, the padding (same id) does not
    assert batch["labels"].tolist() == [[IGNORE, 6, eos, IGNORE, IGNORE], [7, eos, 8, 9, eos]]
    assert set(batch) == {"input_ids", "attention_mask", "labels"}
    assert SiftCollator(0, pad_to_multiple_of=4)(feats)["input_ids"].shape == (2, 8)


def test_train_examples_one_per_sentence_from_the_rest_of_the_split() -> None:
    tok = word_tokenizer()
    c = cfg()
    examples = build_train_examples(CORPUS, 2, "random", c, "mrc", tok, token_budget=1024, seed=3)
    assert len(examples) == len(CORPUS)
    selector = DemoSelector(CORPUS, "random", 3)
    for i, (ex, sentence) in enumerate(zip(examples, CORPUS, strict=True)):
        picks = selector.select(i, 2)
        assert i not in picks
        p = build_prompt(sentence, [CORPUS[j] for j in picks], c)
        enc = encode(p, tok)
        assert ex["input_ids"] == enc.input_ids
        assert ex["labels"] == build_labels(enc, p, "mrc")
        assert ex["n_demos"] == 2
    again = build_train_examples(CORPUS, 2, "random", c, "mrc", tok, seed=3)
    assert again == examples
    assert build_train_examples(CORPUS, 2, "random", c, "mrc", tok, seed=4) != examples


def test_train_examples_respect_the_budget_and_the_strategy() -> None:
    tok = word_tokenizer()
    c = cfg(instruction=False)
    budget = 60
    examples = build_train_examples(CORPUS, 3, "bm25", c, "src", tok, token_budget=budget)
    assert all(len(ex["input_ids"]) <= budget for ex in examples)
    assert any(ex["n_demos"] < 3 for ex in examples) and any(ex["n_demos"] > 0 for ex in examples)
    for ex, sentence in zip(examples, CORPUS, strict=True):
        # src: exactly the query response (its words, separators, labels) and the eos carry loss
        kept = [t for t in ex["labels"] if t != IGNORE]
        response = build_prompt(sentence, [], c).text.split("Entities:")[-1]
        assert tok.decode(kept) == tok.decode(tok(response)["input_ids"])


@pytest.mark.slow  # a few seconds: the Trainer's own start-up
def test_trainer_runs_on_the_examples(tmp_path: Path) -> None:
    from transformers import Trainer, TrainingArguments

    tok = bpe_tokenizer()
    model = tiny_causal_lm("llama", vocab_size=len(tok), pad_token_id=tok.pad_token_id,
                           eos_token_id=tok.eos_token_id, bos_token_id=tok.eos_token_id)
    examples = build_train_examples(CORPUS, 1, "random", cfg(), "mrc", tok)
    args = TrainingArguments(
        output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=4, learning_rate=1e-2,
        report_to=[], save_strategy="no", logging_steps=1, train_sampling_strategy="group_by_length",
        use_cpu=True, disable_tqdm=True,
    )
    before = [p.detach().clone() for p in model.parameters()]
    trainer = Trainer(model=model, args=args, train_dataset=examples,
                      data_collator=SiftCollator(tok.pad_token_id))
    out = trainer.train()
    assert out.global_step == 2 and torch.isfinite(torch.tensor(out.training_loss))
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
