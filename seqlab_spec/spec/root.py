"""The whole experiment: one Spec, and the cross-field rules no single section can check."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pydantic import Field, model_validator

from ..models.aliases import ALIASES
from .base import Section
from .data import DataSpec
from .evaluation import EvalSpec
from .loss import LossSpec
from .method import EncoderMethod, Method
from .model import ModelSpec
from .run import RunSpec
from .signal import SignalSpec
from .task import TaskSpec
from .train import TrainSpec

# Checks of *this machine* (CUDA for QLoRA) can be switched off to validate a GPU spec on a laptop.
DEVICE_CHECKS: ContextVar[bool] = ContextVar("seqlab_device_checks", default=True)


@contextmanager
def portable() -> Iterator[None]:
    """Validate without checking this machine's hardware (`seqlab-spec validate --portable`)."""
    token = DEVICE_CHECKS.set(False)
    try:
        yield
    finally:
        DEVICE_CHECKS.reset(token)


class Spec(Section):
    name: str = Field(
        ..., pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", description="Run name (used in the run folder)."
    )
    description: str = Field("", description="One line shown by `seqlab-spec ls`.")
    task: TaskSpec = Field(default_factory=TaskSpec, description="What is labeled.")
    data: DataSpec = Field(default_factory=DataSpec, description="Data files and readers.")
    model: ModelSpec = Field(default_factory=ModelSpec, description="Pre-trained model and PEFT.")
    method: Method = Field(
        default_factory=EncoderMethod, description="encoder | unmask | sift | oie-multitask."
    )
    loss: LossSpec = Field(default_factory=LossSpec, description="Which tokens carry the loss.")
    signal: SignalSpec = Field(default_factory=SignalSpec, description="Auxiliary signal (OIE).")
    train: TrainSpec = Field(default_factory=TrainSpec, description="Optimisation.")
    eval: EvalSpec = Field(default_factory=EvalSpec, description="Evaluation.")
    run: RunSpec = Field(default_factory=RunSpec, description="Run folder and execution.")
    sweep: dict[str, list[Any]] = Field(
        default_factory=dict,
        description="Grid of overrides, dotted path -> values (e.g. {loss.strategy: [src, mrc], train.seed: "
        "[1, 2, 3]}): one run per combination. A list of unmask patterns is sugar for this.",
    )

    @model_validator(mode="after")
    def _cross_checks(self) -> Spec:
        """Rules across sections. Every problem is collected (one line each, starting with its dotted path)
        so the loader can report them all at once and point each at its key."""
        problems = self._cross_problems()
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _cross_problems(self) -> list[str]:
        out: list[str] = []
        m = self.method.name
        alias = ALIASES.get(self.model.name)
        if m in ("unmask", "sift") and alias is not None and alias.kind == "encoder":
            out.append(
                f"model.name: {self.model.name!r} is an encoder, but method {m!r} needs a decoder LLM; "
                "use smollm2-135m or a causal LM hub id/path"
            )
        if m in ("encoder",) and alias is not None and alias.kind == "decoder":
            out.append(
                f"model.name: {self.model.name!r} is a decoder LLM; use method: unmask to tag with it, "
                "or an encoder such as minilm-l6"
            )
        if self.loss.strategy in ("src", "mrc", "vanilla") and m != "sift":
            out.append(
                f"loss.strategy: {self.loss.strategy!r} is a response loss of method sift; "
                f"method {m!r} uses token-ce (or leave loss.strategy: auto)"
            )
        if self.loss.strategy == "token-ce" and m == "sift":
            out.append("loss.strategy: token-ce is for taggers; sift takes vanilla, src or mrc")
        if self.signal.name == "oie":
            if self.task.type != "trigger":
                out.append(
                    f"signal.name: oie couples relation tags with event triggers; task.type is "
                    f"{self.task.type!r}: set task.type: trigger or signal.name: none"
                )
            if self.signal.source == "file" and not self.signal.path:
                out.append("signal.path: required when signal.source is file (JSONL of {tokens, tags})")
        if m == "oie-multitask" and self.method.injection != "none" and self.signal.name != "oie":
            out.append(
                f"method.injection: {self.method.injection!r} needs the OIE signal: add signal: {{name: oie}}"
            )
        for split in self.eval.splits or []:
            if not self._declares(split):
                out.append(
                    f"eval.splits: {split} is listed but the data has no {split} split (data.{split} is not set); "
                    f"set data.{split}, drop {split} from eval.splits, or leave eval.splits unset to evaluate "
                    "the splits the data has"
                )
        if self.model.quantization != "none" and DEVICE_CHECKS.get():
            import torch  # lazily: validating a spec must not pay for torch unless it asks for QLoRA

            if not torch.cuda.is_available():
                out.append(
                    f"model.quantization: {self.model.quantization!r} needs a CUDA GPU (bitsandbytes); "
                    "this machine has none: set quantization: none (LoRA still works on CPU)"
                )
        return out

    def _declares(self, split: str) -> bool:
        """Whether the spec gives data for `split` (its own file or hf split, or the target domain's)."""
        d = self.data
        if d.format == "hf":
            own = d.hf is not None and split in d.hf.splits
        else:
            own = getattr(d, split) is not None
        return own or (d.target is not None and getattr(d.target, split) is not None)

    @property
    def loss_strategy(self) -> str:
        """The effective loss strategy (`auto` resolved)."""
        if self.loss.strategy != "auto":
            return self.loss.strategy
        return "mrc" if self.method.name == "sift" else "token-ce"
