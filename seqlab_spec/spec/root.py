"""The whole experiment: one Spec, and the cross-field rules no single section can check."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from .. import methods
from ..models.aliases import ALIASES
from .base import Section
from .data import DataSpec
from .evaluation import EvalSpec
from .loss import LossSpec
from .method import EncoderMethod, Method, method_union
from .model import ModelSpec
from .run import RunSpec
from .signal import SignalSpec
from .task import TaskSpec
from .train import TrainSpec


class Spec(Section):
    name: str = Field(
        ..., pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", description="Run name (used in the run folder)."
    )
    description: str = Field("", description="One line shown by `seqlab-spec ls`.")
    task: TaskSpec = Field(default_factory=TaskSpec, description="What is labeled.")
    data: DataSpec = Field(default_factory=DataSpec, description="Data files and readers.")
    model: ModelSpec = Field(default_factory=ModelSpec, description="Pre-trained model and PEFT.")
    method: Method = Field(  # the registered methods (seqlab_spec.methods): rebuilt when one is registered
        default_factory=EncoderMethod, description=" | ".join(methods.names()) + "."
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
        method = self.method
        alias = ALIASES.get(self.model.name)
        kind = method.model_kind_problem(self.model.name, alias.kind) if alias is not None else None
        if kind:
            out.append(kind)
        strategy = self.loss.strategy
        if strategy != "auto" and strategy not in method.losses:
            takes = _either(method.losses)
            if strategy == "token-ce":
                out.append(f"loss.strategy: token-ce is for taggers; {method.name} takes {takes}")
            else:
                owners = ", ".join(n for n in methods.names() if strategy in methods.section(n).losses)
                out.append(
                    f"loss.strategy: {strategy!r} is a response loss of method {owners}; "
                    f"method {method.name!r} uses {takes} (or leave loss.strategy: auto)"
                )
        if self.signal.name == "oie":
            if self.task.type != "trigger":
                out.append(
                    f"signal.name: oie couples relation tags with event triggers; task.type is "
                    f"{self.task.type!r}: set task.type: trigger or signal.name: none"
                )
            if self.signal.source == "file" and not self.signal.path:
                out.append("signal.path: required when signal.source is file (JSONL of {tokens, tags})")
        if self.model.quantization != "none" and not method.quantizable:
            decoders = ", ".join(n for n in methods.names() if methods.section(n).quantizable)
            out.append(
                f"model.quantization: {self.model.quantization!r} is for the decoder methods ({decoders}); "
                f"method {method.name} loads full weights: set model.quantization: none"
            )
        elif self.model.quantization != "none" and self.model.peft.method != "lora":
            out.append(
                f"model.quantization: {self.model.quantization!r} freezes the base weights: set "
                "model.peft.method: lora to train adapters on it (QLoRA)"
            )
        for split in self.eval.splits or []:
            if not self._declares(split):
                out.append(
                    f"eval.splits: {split} is listed but the data has no {split} split (data.{split} is not set); "
                    f"set data.{split}, drop {split} from eval.splits, or leave eval.splits unset to evaluate "
                    "the splits the data has"
                )
        out += method.cross_problems(self)  # the method's own rules (oie-multitask: regime, k, target, mlm)
        return out  # what this machine can run (CUDA for QLoRA) is machine.hardware_problems, not the spec's

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
        return self.method.default_loss


def _rebuild_method_union() -> None:
    """A method registered after import: `method:` accepts exactly the registered sections again."""
    Spec.model_fields["method"].annotation = method_union()
    Spec.model_rebuild(force=True)


methods.on_change(_rebuild_method_union)


def _either(values: tuple[str, ...]) -> str:
    """("a",) -> "a"; ("a", "b", "c") -> "a, b or c"."""
    return values[0] if len(values) == 1 else f"{', '.join(values[:-1])} or {values[-1]}"
