"""The JSON Schema and the generated reference (docs/spec.md); every shipped spec validates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import spec_env

from seqlab_spec.spec.load import load_spec
from seqlab_spec.spec.reference import FIX_COMMAND, json_schema, render_markdown

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "specs").glob("*.yaml"))


def _objects(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {"Spec": schema, **schema["$defs"]}


def test_docs_spec_md_is_up_to_date() -> None:
    current = (ROOT / "docs" / "spec.md").read_text(encoding="utf-8")
    assert current == render_markdown(), f"docs/spec.md is out of date: run `{FIX_COMMAND}`"


def test_every_section_forbids_unknown_keys_and_describes_every_field() -> None:
    for name, obj in _objects(json_schema()).items():
        assert obj["additionalProperties"] is False, name
        for field, prop in obj["properties"].items():
            assert prop.get("description"), f"{name}.{field} has no description"


def test_defaults_include_those_of_default_factories() -> None:
    props = json_schema()["properties"]
    assert props["train"]["default"]["lr"] == 5e-5
    assert props["method"]["default"] == {"name": "encoder"}
    assert props["eval"]["default"]["splits"] is None and props["eval"]["default"]["mode"] == "strict"
    assert props["data"]["default"]["columns"]["label"] == -1
    assert props["sweep"]["default"] == {}


def test_markdown_has_one_table_per_section() -> None:
    text = render_markdown()
    schema = json_schema()
    headings = [line for line in text.splitlines() if line.startswith("### ")]
    assert len(headings) == len(_objects(schema))  # every section once, shared ones (limit) not twice
    assert "### `method (name: unmask)`" in headings and "### `data.columns`" in headings
    for obj in _objects(schema).values():
        for field in obj["properties"]:
            assert f"| `{field}` |" in text
    assert '| `precision` | one of `auto`, `fp32`, `bf16`, `fp16` | `"auto"` |' in text
    assert "| `lr` | number > 0 | `5e-05` | Peak learning rate. |" in text
    assert "| `name` | string matching `^[A-Za-z0-9][A-Za-z0-9._-]*$` | **required** |" in text


def test_markdown_says_seqlab_data_has_no_default() -> None:
    assert "**`SEQLAB_DATA`** names the folder of the corpora that are not redistributed" in render_markdown()
    assert "shared/data" not in render_markdown()


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_spec_validates(path: Path) -> None:
    """Every shipped spec validates, GPU specs (`*_gpu.yaml`) too: what this machine can run is no rule of the
    spec (machine.hardware_problems, which load_spec applies only when a command passes it)."""
    spec = load_spec(path, env=spec_env())
    assert spec.description, f"{path.name}: add a `description:` (shown by `seqlab-spec ls`)"


def test_the_spec_imports_no_torch_even_to_validate_every_shipped_spec() -> None:
    """The spec layer is pydantic and YAML only: hardware checks (CUDA for QLoRA) live in preflight."""
    import subprocess
    import sys

    code = (
        "import sys\nimport seqlab_spec.spec\nfrom seqlab_spec.spec.load import load_spec\n"
        f"for p in {[str(p) for p in SHIPPED]!r}:\n    load_spec(p)\n"
        "print(sorted(m for m in ('torch', 'transformers', 'peft', 'datasets') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=spec_env())
    assert (out.returncode, out.stdout.strip()) == (0, "[]"), out.stderr[-2000:]
