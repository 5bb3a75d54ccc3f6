"""The command line: exit codes, messages, subcommand discovery, `ls` and `schema`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from seqlab_spec import __version__, cli
from seqlab_spec.spec.reference import json_schema, render_markdown

ROOT = Path(__file__).resolve().parents[1]
BAD = Path(__file__).resolve().parent / "fixtures" / "specs" / "bad_lr.yaml"
GOOD = "name: demo\ndescription: a tiny spec\ndata: {train: train.txt}\n"


def _python(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    return path


def test_validate_exit_codes_as_a_subprocess(good: Path) -> None:
    ok = _python("-m", "seqlab_spec.cli", "validate", str(good), "--set", "train.epochs=1")
    assert (ok.returncode, ok.stdout, ok.stderr) == (
        0,
        f"OK  {good}  (demo: method encoder, model minilm-l6)\n",
        "",
    )
    bad = _python("-m", "seqlab_spec.cli", "validate", str(good), str(BAD))
    assert bad.returncode == 1
    assert bad.stdout == f"OK  {good}  (demo: method encoder, model minilm-l6)\n"
    assert bad.stderr == (
        f"error: {BAD}: 1 error in the spec\n  {BAD}:3:7  train.lr  Input should be greater than 0 (got 0)\n"
    )


def test_module_entry_point() -> None:
    out = _python("-m", "seqlab_spec", "--version")
    assert (out.returncode, out.stdout.strip()) == (0, f"seqlab-spec {__version__}")


def test_validate_imports_no_torch(good: Path) -> None:
    code = (
        "import sys\nfrom seqlab_spec.cli import main\n"
        f"assert main(['validate', {str(good)!r}]) == 0\n"
        "heavy = [m for m in ('torch', 'transformers', 'peft', 'datasets') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    out = _python("-c", code)
    assert out.returncode == 0, out.stderr


def test_validate_checks_this_machine_unless_portable(good: Path, capsys) -> None:
    """QLoRA needs CUDA: reported at its key like a spec rule (machine.hardware_problems), skipped with
    --portable so a GPU spec validates on a laptop."""
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: 4-bit quantization is allowed")
    good.write_text(GOOD + "method: {name: unmask}\nmodel:\n  name: smollm2-135m\n  peft: {method: lora}\n"
                    "  quantization: 4bit\n")
    assert cli.main(["validate", str(good)]) == 1
    assert capsys.readouterr().err == (
        f"error: {good}: 1 error in the spec\n"
        f"  {good}:8:17  model.quantization  '4bit' needs a CUDA GPU (bitsandbytes); this machine has none: "
        "set quantization: none (LoRA still works on CPU)\n"
    )
    assert cli.main(["validate", str(good), "--portable"]) == 0
    assert capsys.readouterr().out == f"OK  {good}  (demo: method unmask, model smollm2-135m)\n"


def test_bad_override_names_the_override(good: Path, capsys) -> None:
    assert cli.main(["validate", str(good), "--set", "train.lr=-1"]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"error: {good}: 1 error in the spec\n"
        "  --set train.lr=-1  train.lr  Input should be greater than 0 (got -1)\n"
    )


def test_missing_spec_file(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nope.yaml"
    assert cli.main(["validate", str(missing)]) == 1
    assert capsys.readouterr().err == (
        f"error: {missing}: 1 error in the spec\n"
        f"  {missing}: no such file (`seqlab-spec ls` lists the shipped specs)\n"
    )


@pytest.mark.parametrize("name", [n for n in cli.COMMANDS if cli._command_module(n) is not None])
def test_help_of_every_subcommand(name: str, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main([name, "--help"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: seqlab-spec {name}")


def test_schema_and_markdown(capsys) -> None:
    assert cli.main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == json_schema()
    assert cli.main(["schema", "--markdown"]) == 0
    assert capsys.readouterr().out == render_markdown()


def test_ls_lists_specs_and_notebooks(tmp_path: Path, capsys) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "a.yaml").write_text("name: a\ndescription: First spec\n")
    (tmp_path / "specs" / "b_long_name.yaml").write_text("name: b\n")
    (tmp_path / "specs" / "c.yaml").write_text("name: [\n")
    (tmp_path / "notebooks").mkdir()
    cells = [
        {"cell_type": "code", "source": ["# not a heading\n"]},
        {"cell_type": "markdown", "source": ["Intro text\n", "## 01 · The baseline\n"]},
    ]
    (tmp_path / "notebooks" / "01.ipynb").write_text(json.dumps({"cells": cells}))
    assert cli.main(["ls", "--root", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"specs ({tmp_path / 'specs'}):",
        "  a.yaml            First spec",
        "  b_long_name.yaml  (no description)",
        "  c.yaml            (unreadable: ParserError; "
        f"run `seqlab-spec validate {tmp_path / 'specs' / 'c.yaml'}`)",
        "",
        f"notebooks ({tmp_path / 'notebooks'}):",
        "  01.ipynb  01 · The baseline",
    ]


def test_ls_defaults_to_the_repo(capsys) -> None:
    assert cli.main(["ls"]) == 0
    out = capsys.readouterr().out
    for path in [*ROOT.glob("specs/*.yaml"), *ROOT.glob("notebooks/*.ipynb")]:
        assert f"  {path.name}  " in out


def _fake_commands(tmp_path: Path, monkeypatch, commands: list[str]) -> None:
    """A stand-in package whose commands/ holds a working, a failing and a broken subcommand."""
    pkg = tmp_path / "fakecli"
    (pkg / "commands").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "commands" / "__init__.py").write_text("")
    (pkg / "commands" / "boom.py").write_text(
        "from seqlab_spec.errors import DataError\n"
        "def add_parser(sub):\n    sub.add_parser('boom', help='always fails')\n"
        "def run(args):\n    raise DataError('x.txt:3: a bad line; fix it')\n"
    )
    (pkg / "commands" / "broken.py").write_text("import not_a_real_dependency  # noqa\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(cli, "__package__", "fakecli")
    monkeypatch.setattr(cli, "COMMANDS", commands)


def test_missing_command_modules_are_skipped_and_errors_print_no_traceback(
    tmp_path, monkeypatch, capsys
) -> None:
    _fake_commands(tmp_path, monkeypatch, ["boom", "not_written_yet"])
    assert cli.main(["boom"]) == 1
    assert capsys.readouterr().err == "error: x.txt:3: a bad line; fix it\n"
    with pytest.raises(SystemExit) as info:
        cli.main(["not_written_yet"])
    assert info.value.code == 2
    assert "invalid choice: 'not_written_yet'" in capsys.readouterr().err


def test_a_broken_command_module_is_not_hidden(tmp_path, monkeypatch) -> None:
    _fake_commands(tmp_path, monkeypatch, ["boom", "broken"])
    with pytest.raises(ModuleNotFoundError, match="not_a_real_dependency"):
        cli.main(["--help"])
