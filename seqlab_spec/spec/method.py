"""The built-in methods' spec sections; `method_union()`: every registered section, keyed by `name`."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union, get_args

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
    """What every method's spec section is: `name` (a Literal, the union's tag) and its own keys."""

    def sweep_axes(self, spec: Spec) -> dict[str, list[Any]]:
        """Runs this method's settings ask for, as sweep axes (dotted path -> values); {}: one run."""
        return {}


class EncoderMethod(MethodSection):
    name: Literal["encoder"] = Field(
        "encoder", description="Token classification on an encoder (the baseline)."
    )


class UnmaskMethod(MethodSection):
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
