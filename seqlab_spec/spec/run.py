"""Where the run folder goes and how the run executes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Section


class RunSpec(Section):
    out_dir: str = Field("runs", description="Parent folder of run folders (relative to the working directory).")
    notebook: str | None = Field(None, description="Notebook to execute; default: the method's notebook.")
    save_model: bool = Field(True, description="Save the model or adapter (save_pretrained) in the run folder.")
    solutions: bool = Field(True, description="Fill in the notebook exercises with the reference solutions.")
    report_to: Literal["none", "tensorboard", "wandb", "mlflow"] | list[Literal["tensorboard", "wandb", "mlflow"]] = (
        Field(
            "none",
            description="Experiment tracking, passed to the Trainer's `report_to`: `none`, `tensorboard` (event "
            "files in RUN_DIR/tensorboard), `wandb`, `mlflow` (file:RUN_DIR/mlruns unless MLFLOW_TRACKING_URI is "
            "set), or a list of them. The backend's package must be installed.",
        )
    )
