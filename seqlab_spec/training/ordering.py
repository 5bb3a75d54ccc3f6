"""The order of training batches (`train.batch_order`): random, length-grouped, or bucketed.

- `random`: the Trainer's RandomSampler (accelerate seeds it per epoch): the plain Hugging Face recipe.
- `length`: the Trainer's LengthGroupedSampler: pools of 50 batches sorted by length, longest first, the batches
  of each pool taken in that order (so training walks from long to short sentences 50 batches at a time).
- `bucketed` (default): `BucketedSampler`: the same pools sorted by length, but the batches of the whole epoch are
  then shuffled, so consecutive steps see unrelated lengths. Padding as little as `length`; the F1 of `random`
  (BENCHMARKS.md, "Batch order").

`train.batch_tokens` replaces all three with `TokenBudgetBatches`: batches of about N real tokens, for throughput.
`OrderedTrainer` reads both from its arguments; every pipeline trains with it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import torch
from torch.utils.data import Sampler
from transformers import Trainer, TrainingArguments

BATCH_ORDERS = ("random", "length", "bucketed")
POOL_BATCHES = 50  # batches per length-sorted pool: the Trainer's LengthGroupedSampler default


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The generator of one epoch's order: a function of (seed, epoch) alone, so a resumed run redraws it exactly.
    Not seed + epoch: runs of seeds 42 and 43 would share orders one epoch apart."""
    return torch.Generator().manual_seed(seed * 1_000_003 + epoch)


def bucketed_batches(lengths: Sequence[int], batch_size: int, generator: torch.Generator) -> list[list[int]]:
    """Batches of similar length in random order: shuffle, cut into pools of POOL_BATCHES batches, sort each pool
    by length, cut it into batches, shuffle all full batches; a last short batch (if any) stays last, since the
    DataLoader cuts the flat index list into consecutive `batch_size` chunks."""
    perm = torch.randperm(len(lengths), generator=generator).tolist()
    pool = POOL_BATCHES * batch_size
    batches: list[list[int]] = []
    for start in range(0, len(perm), pool):
        chunk = sorted(perm[start : start + pool], key=lambda i: lengths[i])
        batches += [chunk[j : j + batch_size] for j in range(0, len(chunk), batch_size)]
    short = [b for b in batches if len(b) < batch_size]
    full = [b for b in batches if len(b) == batch_size]
    return [full[i] for i in torch.randperm(len(full), generator=generator).tolist()] + short


class BucketedSampler(Sampler[int]):
    """Indices whose consecutive `batch_size` chunks are `bucketed_batches`; the Trainer calls `set_epoch`."""

    def __init__(self, lengths: Sequence[int], batch_size: int, seed: int) -> None:
        self.lengths = list(lengths)
        self.batch_size = batch_size
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self) -> Iterator[int]:
        batches = bucketed_batches(self.lengths, self.batch_size, epoch_generator(self.seed, self.epoch))
        return iter([i for b in batches for i in b])


class TokenBudgetBatches(Sampler[list[int]]):
    """Batches of about `budget` tokens (`train.batch_tokens`): each batch's padded size, sentences x longest
    length, stays <= budget (a sentence longer than the budget is a batch of its own).

    Sentences are sorted by length (ties broken by a permutation seeded by `seed`) and cut greedily, so a
    batch holds sentences of nearly one length and almost no padding is computed. The batches are fixed once
    (the step count per epoch is known before training, as the Trainer's schedule needs) and their order is
    drawn per epoch from a generator seeded by (seed, epoch): a resumed run sees the same order.
    """

    def __init__(self, lengths: list[int], budget: int, seed: int) -> None:
        tie = torch.randperm(len(lengths), generator=torch.Generator().manual_seed(seed)).tolist()
        order = sorted(range(len(lengths)), key=lambda i: (lengths[i], tie[i]))
        self.batches: list[list[int]] = []
        batch: list[int] = []
        for i in order:  # ascending length: the newest sentence is the batch's longest
            if batch and (len(batch) + 1) * lengths[i] > budget:
                self.batches.append(batch)
                batch = []
            batch.append(i)
        if batch:
            self.batches.append(batch)
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self):
        for i in torch.randperm(len(self.batches), generator=epoch_generator(self.seed, self.epoch)).tolist():
            yield self.batches[i]


@dataclass
class SpecTrainingArguments(TrainingArguments):
    """TrainingArguments plus the spec's batch order (read by `OrderedTrainer`)."""

    batch_order: str = field(default="bucketed", metadata={"help": "random | length | bucketed"})
    batch_tokens: int | None = field(default=None, metadata={"help": "token budget per batch (TokenBudgetBatches)"})


class OrderedTrainer(Trainer):
    """The Trainer of every pipeline: `args.batch_order: bucketed` as one more sampler (the others are the
    Trainer's own), and `args.batch_tokens`: token-budget batches (`TokenBudgetBatches`) instead of any sampler."""

    def _get_train_sampler(self, train_dataset=None):
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        if getattr(self.args, "batch_order", None) != "bucketed" or dataset is None:
            return super()._get_train_sampler(train_dataset)
        cols = getattr(dataset, "column_names", None) or []
        lengths = dataset["length"] if "length" in cols else [len(x["input_ids"]) for x in dataset]
        seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
        return BucketedSampler(lengths, self._train_batch_size, seed)  # the DataLoader's batch size

    def get_train_dataloader(self):
        budget = getattr(self.args, "batch_tokens", None)
        if not budget:
            return super().get_train_dataloader()
        from torch.utils.data import DataLoader

        data = self.train_dataset
        lengths = data["length"] if "length" in data.column_names else [len(x) for x in data["input_ids"]]
        sampler = TokenBudgetBatches(lengths, budget, self.args.data_seed or self.args.seed)
        print(
            f"train.batch_tokens={budget}: {len(sampler)} batches per epoch "
            f"(mean {len(lengths) / len(sampler):.1f} sentences, {sum(lengths) / len(sampler):.0f} tokens); "
            "the learning rate is per step as set",
            flush=True,
        )
        collator = self.data_collator
        if getattr(collator, "pad_to_multiple_of", None):  # a batch holds one length already: pad no further
            collator = copy.copy(collator)
            collator.pad_to_multiple_of = None
        loader = DataLoader(
            self._remove_unused_columns(data, description="Training"),
            batch_sampler=sampler,
            collate_fn=collator,
            num_workers=self.args.dataloader_num_workers,
            pin_memory=self.args.dataloader_pin_memory,
            persistent_workers=self.args.dataloader_persistent_workers,
        )
        return self.accelerator.prepare(loader)
