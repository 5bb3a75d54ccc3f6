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
from .method import TRANSFER_REGIMES, EncoderMethod, Method, MethodSection, method_union
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
        m = self.method.name
        alias = ALIASES.get(self.model.name)
        kind = model_kind_problem(self.method, self.model.name, alias.kind) if alias is not None else None
        if kind:
            out.append(kind)
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
        if m == "oie-multitask":
            out += self._oie_problems()
        return out  # what this machine can run (CUDA for QLoRA) is preflight.hardware_problems, not the spec's

    def _oie_problems(self) -> list[str]:
        out: list[str] = []
        m = self.method
        if m.injection != "none" and self.signal.name != "oie":
            out.append(f"method.injection: {m.injection!r} needs the OIE signal: add signal: {{name: oie}}")
        if self.data.few_shot is not None:
            out.append(
                "data.few_shot: samples the source split of method encoder; oie-multitask draws its k target "
                "sentences itself: set method.regime: few-shot (or joint) and method.k, and remove data.few_shot"
            )
        if m.regime != "in-domain" and self.data.target is None:
            out.append(f"data.target: method.regime {m.regime!r} needs the target domain (data.target.test)")
        if m.regime in TRANSFER_REGIMES:
            if not m.k:
                out.append(f"method.k: an empty list; method.regime {m.regime!r} needs at least one k, e.g. [10]")
            for k in m.k:
                if k < 1:
                    out.append(f"method.k: {k} target sentences; k must be at least 1")
        if m.mlm and m.base != "encoder":
            out.append("method.mlm: the masked-LM pass needs an encoder backbone (method.base: encoder)")
        return out

    @property
    def loss_strategy(self) -> str:
        """The effective loss strategy (`auto` resolved)."""
        if self.loss.strategy != "auto":
            return self.loss.strategy
        return "mrc" if self.method.name == "sift" else "token-ce"


def _rebuild_method_union() -> None:
    """A method registered after import: `method:` accepts exactly the registered sections again."""
    Spec.model_fields["method"].annotation = method_union()
    Spec.model_rebuild(force=True)


methods.on_change(_rebuild_method_union)


def model_kind_problem(method: MethodSection, model_name: str, kind: str) -> str | None:
    """The one rule of which model a method tags with (an encoder, or a decoder LLM), as a "dotted.key: message"
    row; None when `kind` ("encoder" | "decoder") fits. The spec applies it to aliases (their kind is known
    without loading anything); the OIE pipeline to any other model, once its config is read."""
    name = method.name
    if name == "oie-multitask":
        if method.base == "encoder" and kind == "decoder":
            return (
                f"model.name: {model_name!r} is a decoder LLM; set method.base: unmask to tag with it, "
                "or use an encoder such as minilm-l6"
            )
        if method.base == "unmask" and kind == "encoder":
            return (
                f"method.base: unmask needs a decoder LLM, but model.name {model_name!r} is an encoder; "
                "use smollm2-135m (or a causal LM), or method.base: encoder"
            )
    elif name in ("unmask", "sift") and kind == "encoder":
        return (
            f"model.name: {model_name!r} is an encoder, but method {name!r} needs a decoder LLM; "
            "use smollm2-135m or a causal LM hub id/path"
        )
    elif name == "encoder" and kind == "decoder":
        return (
            f"model.name: {model_name!r} is a decoder LLM; use method: unmask to tag with it, "
            "or an encoder such as minilm-l6"
        )
    return None
