"""Experiment tracking as Trainer users know it: `run.report_to` names the backends passed to TrainingArguments'
`report_to`, and their local files go into the run folder rather than the working directory or the checkpoint
folder (which is removed once training ends):

- tensorboard: event files in RUN_DIR/tensorboard (`tensorboard --logdir runs/`);
- wandb: WANDB_DIR defaults to the run folder (the run itself goes where your wandb login sends it);
- mlflow: MLFLOW_TRACKING_URI defaults to file:RUN_DIR/mlruns.

An environment variable you set yourself wins.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..spec import Spec

PACKAGES = {"tensorboard": "tensorboard", "wandb": "wandb", "mlflow": "mlflow"}


def backends(spec: Spec) -> list[str]:
    """`run.report_to` as a list for TrainingArguments (empty: none)."""
    value = spec.run.report_to
    return [] if value == "none" else [value] if isinstance(value, str) else list(value)


def log_into_run_folder(trainer, run_dir: Path) -> None:
    """Point the trainer's tracking callbacks at `run_dir` (call before trainer.train())."""
    from transformers.integrations import TensorBoardCallback

    names = trainer.args.report_to or []
    if "wandb" in names:
        os.environ.setdefault("WANDB_DIR", str(run_dir))
    if "mlflow" in names:
        os.environ.setdefault("MLFLOW_TRACKING_URI", (Path(run_dir) / "mlruns").resolve().as_uri())
    for callback in trainer.callback_handler.callbacks:
        if isinstance(callback, TensorBoardCallback) and not os.environ.get("TENSORBOARD_LOGGING_DIR"):
            callback.logging_dir = str(Path(run_dir) / "tensorboard")
