"""Trainer checkpoints on disk: which one a resumed training continues from, and removing them.

A run killed mid-training keeps RUN_DIR/checkpoints (written by the Trainer at each epoch end and every
`train.save_every_steps` steps, removed once training ends). The Trainer writes a checkpoint's files one by
one, trainer_state.json near the end, so a checkpoint counts only when every file it needs is there and its
state parses: a kill while one was being written falls back to the one before.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
# What the Trainer needs to continue exactly: optimizer, scheduler and RNG states besides the weights.
CHECKPOINT_FILES = ("trainer_state.json", "optimizer.pt", "scheduler.pt", "rng_state.pth")
WEIGHTS = ("model.safetensors", "adapter_model.safetensors", "pytorch_model.bin", "adapter_model.bin")


def _step(path: Path) -> int | None:
    m = CHECKPOINT.match(path.name)
    return int(m.group(1)) if m and path.is_dir() else None


def is_complete(checkpoint: Path) -> bool:
    """Every file a resume reads is there and trainer_state.json parses with the folder's step."""
    step = _step(checkpoint)
    if step is None or not all((checkpoint / f).is_file() for f in CHECKPOINT_FILES):
        return False
    if not any((checkpoint / f).is_file() for f in WEIGHTS) and not any(
        checkpoint.glob("model-*.safetensors")
    ):
        return False
    try:
        state = json.loads((checkpoint / "trainer_state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(state, dict) and state.get("global_step") == step


def last_checkpoint(folder: Path) -> Path | None:
    """The complete checkpoint with the highest step in `folder`, or None (no folder, none complete)."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    found = sorted((s, p) for p in folder.iterdir() if (s := _step(p)) is not None)
    for _, path in reversed(found):
        if is_complete(path):
            return path
    return None


def drop_incomplete_checkpoints(folder: Path) -> list[Path]:
    """Remove checkpoint folders a kill left half-written (the Trainer would write into them again)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    dropped = [p for p in folder.iterdir() if _step(p) is not None and not is_complete(p)]
    for p in dropped:
        shutil.rmtree(p, ignore_errors=True)
    return dropped


def discard_checkpoints(folder: Path) -> None:
    """Remove the checkpoints folder: renamed away first, so a kill meanwhile never leaves a half-deleted
    checkpoint that looks resumable."""
    folder = Path(folder)
    if not folder.exists():
        return
    trash = folder.with_name(f".{folder.name}-discarded-{os.getpid()}")
    folder.rename(trash)
    shutil.rmtree(trash, ignore_errors=True)
