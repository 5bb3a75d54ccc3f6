"""pipelines/tagger.py builds the tagger its method's section declares (MethodSection.model_kind), never by the
method's name: a new decoder-tagger method registered from its own module is a decoder tagger with no edit of
tagger.py, and a section that declares no model kind is told what to declare."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqlab_spec import methods
from seqlab_spec.errors import SpecError
from seqlab_spec.methods import MethodEntry
from seqlab_spec.pipelines import tagger
from seqlab_spec.spec.load import load_spec

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "specs" / "quickstart.yaml"

SECTIONS = '''from typing import ClassVar, Literal

from pydantic import Field

from seqlab_spec.spec.method import MethodSection, UnmaskMethod


class WideUnmaskMethod(UnmaskMethod):
    name: Literal["wide-unmask"] = Field(description="A decoder tagger under another name.")


class AnyKindMethod(MethodSection):
    model_kind: ClassVar[str | None] = None
    name: Literal["any-kind"] = Field(description="A tagger that does not say which model it tags with.")
'''


@pytest.fixture
def sections(tmp_path: Path, monkeypatch):
    (tmp_path / "toy_tagger_sections.py").write_text(SECTIONS)
    monkeypatch.syspath_prepend(str(tmp_path))
    pipeline = "seqlab_spec.pipelines.tagger"
    methods.register(MethodEntry("wide-unmask", "toy_tagger_sections:WideUnmaskMethod", pipeline))
    methods.register(MethodEntry("any-kind", "toy_tagger_sections:AnyKindMethod", pipeline))
    yield
    methods.unregister("wide-unmask")
    methods.unregister("any-kind")


def test_the_tagger_reads_the_model_kind_the_section_declares(sections) -> None:
    assert tagger.decoder(load_spec(QUICKSTART)) is False  # encoder
    unmask = load_spec(QUICKSTART, ["model.name=smollm2-135m", "method={name: unmask, unmask: '0110'}"])
    assert tagger.decoder(unmask) is True
    wide = load_spec(QUICKSTART, ["model.name=smollm2-135m", "method={name: wide-unmask, unmask: '0110'}"])
    assert tagger.decoder(wide) is True
    assert methods.pipeline("wide-unmask") is tagger


def test_a_section_without_a_model_kind_is_told_to_declare_one(sections) -> None:
    spec = load_spec(QUICKSTART, ["method={name: any-kind}"])
    with pytest.raises(SpecError) as e:
        tagger.decoder(spec)
    assert e.value.rows == [
        "method.name: 'any-kind' runs the tagger pipeline, which builds the model kind its section declares; "
        "AnyKindMethod.model_kind is None: declare 'encoder' or 'decoder'"
    ]
