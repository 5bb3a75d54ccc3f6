"""The built-in methods' spec sections; `method_union()`: every registered section, keyed by `name`."""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal, Union, get_args

from pydantic import Field, field_validator

from .. import methods
from .base import Section

Spec = Any  # the whole spec (spec.root.Spec, which imports this module: named here, not imported)

PATTERN = re.compile(r"^[01]+$")  # an unmask pattern: one 0/1 per layer group (models/unmask.py reads it here)
TRANSFER_REGIMES = ("few-shot", "joint")  # oie-multitask regimes that draw k target sentences


def check_pattern(pattern: str, alternatives: str = "") -> str:
    """`pattern` when it is a non-empty string of 0/1; the ValueError pydantic reports at the key otherwise."""
    if not PATTERN.match(pattern):
        raise ValueError(f"pattern {pattern!r} must be a string of 0 and 1 (e.g. '0110'){alternatives}")
    return pattern


class MethodSection(Section):
    """What every method's spec section is: `name` (a Literal, the union's tag), its own keys, and what the
    spec's rules ask of a method (the loss strategies it trains with, the model kind it tags with)."""

    losses: ClassVar[tuple[str, ...]] = ("token-ce",)  # the loss.strategy values it trains with
    default_loss: ClassVar[str] = "token-ce"  # what loss.strategy: auto means for it
    model_kind: ClassVar[str | None] = None  # "encoder" | "decoder": the model it tags with; None: either
    quantizable: ClassVar[bool] = False  # trains adapters on frozen base weights, so 4/8-bit loading fits it

    def sweep_axes(self, spec: Spec) -> dict[str, list[Any]]:
        """Runs this method's settings ask for, as sweep axes (dotted path -> values); {}: one run."""
        return {}

    def cross_problems(self, spec: Spec) -> list[str]:
        """This method's rules across the spec's sections, as "dotted.key: message" rows (spec/root.py)."""
        return []

    def model_kind_problem(self, model_name: str, kind: str) -> str | None:
        """The one rule of which model a method tags with, as a "dotted.key: message" row; None when `kind`
        ("encoder" | "decoder") fits. The spec applies it to aliases (their kind is known without loading
        anything), the pipelines to any other model once its config is read."""
        if self.model_kind == "decoder" and kind == "encoder":
            return (
                f"model.name: {model_name!r} is an encoder, but method {self.name!r} needs a decoder LLM; "
                "use smollm2-135m or a causal LM hub id/path"
            )
        if self.model_kind == "encoder" and kind == "decoder":
            return (
                f"model.name: {model_name!r} is a decoder LLM; use method: unmask to tag with it, "
                "or an encoder such as minilm-l6"
            )
        return None


class EncoderMethod(MethodSection):
    model_kind: ClassVar[str | None] = "encoder"
    name: Literal["encoder"] = Field(
        "encoder", description="Token classification on an encoder (the baseline)."
    )


class UnmaskMethod(MethodSection):
    model_kind: ClassVar[str | None] = "decoder"
    quantizable: ClassVar[bool] = True
    name: Literal["unmask"] = Field(
        description="Decoder LLM as a tagger with layer-group causal-mask removal."
    )
    unmask: str | list[str] = Field(
        "0000",
        description="Layer-group pattern: G characters of 0/1, the layers split into G contiguous groups; "
        "1 = that group attends both ways. A list of patterns, or `all` (every 2^G pattern of length "
        "`groups`), makes a sweep.",
    )
    groups: int = Field(4, ge=1, le=12, description="Pattern length used by `unmask: all`.")
    head_dropout: float = Field(0.1, ge=0.0, lt=1.0, description="Dropout before the linear tagging head.")

    @field_validator("unmask")
    @classmethod
    def _check_pattern(cls, v: str | list[str]) -> str | list[str]:
        items = [v] if isinstance(v, str) else v
        if isinstance(v, list) and not v:
            raise ValueError("an empty list of patterns; give at least one, e.g. ['0000', '0110']")
        for p in items:
            if p == "all" and isinstance(v, str):
                continue
            check_pattern(p, ", or 'all'")
        return v

    def sweep_axes(self, spec: Spec) -> dict[str, list[Any]]:
        """A list of patterns, or `all` (every 2^groups pattern), is one run per pattern."""
        if self.unmask == "all":
            return {"method.unmask": [format(i, f"0{self.groups}b") for i in range(2**self.groups)]}
        return {"method.unmask": list(self.unmask)} if isinstance(self.unmask, list) else {}


class SiftMethod(MethodSection):
    quantizable: ClassVar[bool] = True
    losses: ClassVar[tuple[str, ...]] = ("vanilla", "src", "mrc")
    default_loss: ClassVar[str] = "mrc"
    model_kind: ClassVar[str | None] = "decoder"
    name: Literal["sift"] = Field(
        description="Supervised in-context fine-tuning: generate the labeled spans."
    )
    k: int = Field(3, ge=0, description="Demonstrations per prompt.")
    selection: Literal["random", "bm25", "embedding"] = Field(
        "random",
        description="How demonstrations are chosen from the training split (never the query itself).",
    )
    instruction: bool = Field(
        True, description="Start the prompt with an instruction naming the task and labels."
    )
    response_format: Literal["lines", "inline"] = Field(
        "lines",
        description="`lines`: one `span :: LABEL` per line; `inline`: the sentence with [span|LABEL] tags.",
    )
    none_word: str = Field("none", description="The response when a sentence has no span (lines format).")
    token_budget: int = Field(
        1024, ge=32, description="Max prompt tokens; demonstrations are dropped before the query is ever cut."
    )
    chat_template: Literal["auto", "on", "off"] = Field(
        "off", description="Wrap the prompt in the tokenizer's chat template (`auto`: when it has one)."
    )
    max_new_tokens: int | None = Field(
        None, ge=1, description="Generation bound; by default derived from the query's length."
    )
    decoding: Literal["free", "constrained"] = Field(
        "free",
        description="`constrained`: only tokens that keep the answer a valid response for the query (span words "
        "of the sentence at an unused position, known labels): no answer is rejected, but a line free decoding "
        "would drop becomes a span, so precision falls; `free` (default): plain greedy decoding, the higher F1 "
        "in 6 of 8 cells of BENCHMARKS.md's free vs constrained table.",
    )


class OieMultitaskMethod(MethodSection):
    name: Literal["oie-multitask"] = Field(description="Event triggers coupled with OIE relation tags.")
    injection: Literal["none", "implicit", "explicit"] = Field(
        "explicit",
        description="`none`: the vanilla model; `implicit`: relation-tag embeddings as input features; "
        "`explicit`: a second head predicting relation tags.",
    )
    regime: Literal["in-domain", "zero-shot", "few-shot", "joint"] = Field(
        "zero-shot", description="Transfer regime between `data` (source) and `data.target`."
    )
    k: list[int] = Field(
        default_factory=lambda: [10, 50, 100], description="Target sentences for few-shot/joint."
    )
    n_samples: int = Field(3, ge=1, description="Seeded samples per k (mean ± std).")
    tag_dim: int = Field(32, ge=1, description="Size of the relation-tag embedding (implicit).")
    mlm: bool = Field(False, description="Interleave a masked-LM pass over unlabeled target text (encoders).")
    base: Literal["encoder", "unmask"] = Field(
        "encoder", description="Shared model: an encoder or an unmasked decoder."
    )
    unmask: str = Field("1111", description="Unmask pattern when `base: unmask`.")

    @field_validator("unmask")
    @classmethod
    def _check_pattern(cls, v: str) -> str:
        return check_pattern(v)

    def model_kind_problem(self, model_name: str, kind: str) -> str | None:
        if self.base == "encoder" and kind == "decoder":
            return (
                f"model.name: {model_name!r} is a decoder LLM; set method.base: unmask to tag with it, "
                "or use an encoder such as minilm-l6"
            )
        if self.base == "unmask" and kind == "encoder":
            return (
                f"method.base: unmask needs a decoder LLM, but model.name {model_name!r} is an encoder; "
                "use smollm2-135m (or a causal LM), or method.base: encoder"
            )
        return None

    def cross_problems(self, spec: Spec) -> list[str]:
        out: list[str] = []
        if self.injection != "none" and spec.signal.name != "oie":
            out.append(f"method.injection: {self.injection!r} needs the OIE signal: add signal: {{name: oie}}")
        if spec.data.few_shot is not None:
            out.append(
                "data.few_shot: samples the source split of method encoder; oie-multitask draws its k target "
                "sentences itself: set method.regime: few-shot (or joint) and method.k, and remove data.few_shot"
            )
        if self.regime != "in-domain" and spec.data.target is None:
            out.append(f"data.target: method.regime {self.regime!r} needs the target domain (data.target.test)")
        if self.regime in TRANSFER_REGIMES:
            if not self.k:
                out.append(f"method.k: an empty list; method.regime {self.regime!r} needs at least one k, e.g. [10]")
            for k in self.k:
                if k < 1:
                    out.append(f"method.k: {k} target sentences; k must be at least 1")
        if self.mlm and self.base != "encoder":
            out.append("method.mlm: the masked-LM pass needs an encoder backbone (method.base: encoder)")
        return out

    def sweep_axes(self, spec: Spec) -> dict[str, list[Any]]:
        """A few-shot/joint spec is one run per k and sample, sample i = train.seed + i (which seeds both
        the k-shot draw and the training)."""
        if self.regime not in TRANSFER_REGIMES:
            return {}
        axes: dict[str, list[Any]] = {}
        if len(self.k) > 1:
            axes["method.k"] = [[k] for k in self.k]
        if self.n_samples > 1:
            axes["method.n_samples"] = [1]
            axes["train.seed"] = [spec.train.seed + i for i in range(self.n_samples)]
        return axes


def method_union() -> Any:
    """The spec's `method:` type: every registered method's section, a union discriminated by `name`.
    TypeError when a row's section is no MethodSection or its `name` Literal is not the row's name."""
    classes = []
    for name in methods.names():
        cls = methods.section(name)
        fields = getattr(cls, "model_fields", {}) if isinstance(cls, type) else {}
        if not (isinstance(cls, type) and issubclass(cls, MethodSection)) or "name" not in fields:
            raise TypeError(f"method {name!r}: its section {cls!r} must subclass seqlab_spec.spec.method.MethodSection")
        if get_args(fields["name"].annotation) != (name,):
            raise TypeError(f"method {name!r}: its section {cls.__name__} must declare name: Literal[{name!r}]")
        classes.append(cls)
    return Annotated[Union[tuple(classes)], Field(discriminator="name")]  # noqa: UP007 (a tuple of types)


Method = method_union()  # the built-in methods, for type hints; Spec.method follows the registry
