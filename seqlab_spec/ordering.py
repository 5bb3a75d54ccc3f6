"""The order of training batches (`train.batch_order`): random, length-grouped, or bucketed.

- `random`: the Trainer's RandomSampler (accelerate seeds it per epoch): the plain Hugging Face recipe.
- `length`: the Trainer's LengthGroupedSampler: pools of 50 batches sorted by length, longest first, the batches
  of each pool taken in that order (so training walks from long to short sentences 50 batches at a time).
- `bucketed` (default): `BucketedSampler`: the same pools sorted by length, but the batches of the whole epoch are
  then shuffled, so consecutive steps see unrelated lengths. Padding as little as `length`; the F1 of `random`
  (BENCHMARKS.md, "Batch order").
"""

from __future__ import annotations

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


@dataclass
class SpecTrainingArguments(TrainingArguments):
    """TrainingArguments plus the spec's batch order (read by `OrderedTrainer`)."""

    batch_order: str = field(default="bucketed", metadata={"help": "random | length | bucketed"})


class OrderedTrainer(Trainer):
    """The Trainer with `args.batch_order: bucketed` as one more sampler (the others are the Trainer's own)."""

    def _get_train_sampler(self, train_dataset=None):
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        if getattr(self.args, "batch_order", None) != "bucketed" or dataset is None:
            return super()._get_train_sampler(train_dataset)
        cols = getattr(dataset, "column_names", None) or []
        lengths = dataset["length"] if "length" in cols else [len(x["input_ids"]) for x in dataset]
        seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
        return BucketedSampler(lengths, self._train_batch_size, seed)  # the DataLoader's batch size
