"""The package as a user installs it: a wheel carries the shipped specs and notebooks, `seqlab-spec run NAME`
finds both inside the installed package from any folder, and `seqlab-spec init` copies them out."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, TINY

from seqlab_spec import cli
from seqlab_spec.errors import SeqlabError
from seqlab_spec.shipped import resolve_spec_arg, shipped_root

SHIPPED = sorted([*(ROOT / "specs").glob("*.yaml"), *(ROOT / "notebooks").glob("*.ipynb")])
SOURCES = ["pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "seqlab_spec", "specs", "notebooks"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from a copy of the sources (a build leaves build/ and *.egg-info where it runs)."""
    tmp = tmp_path_factory.mktemp("wheel")
    (tmp / "src").mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, tmp / "src" / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copyfile(ROOT / name, tmp / "src" / name)
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    subprocess.run([*pip, "-w", str(tmp / "dist"), str(tmp / "src")], check=True, capture_output=True, timeout=300)
    (built,) = (tmp / "dist").glob("seqlab_spec-*.whl")
    return built


def test_the_wheel_carries_every_shipped_spec_and_notebook_inside_the_package(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"seqlab_spec/{p.parent.name}/{p.name}" for p in SHIPPED}
    assert expected <= names
    assert {n for n in names if n.startswith(("seqlab_spec/specs/", "seqlab_spec/notebooks/"))} == expected
    assert not [n for n in names if n.startswith(("specs/", "notebooks/"))]  # nothing at site-packages' top


@pytest.mark.slow
def test_a_wheel_install_runs_the_quickstart_notebook_by_name_from_an_empty_folder(wheel: Path, tmp_path) -> None:
    """The wheel installed alone (--no-deps) into a fresh folder, ahead of the test environment on PYTHONPATH."""
    target, work = tmp_path / "site", tmp_path / "empty"
    work.mkdir()
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    env = {**os.environ, "PYTHONPATH": str(target), "HF_HUB_OFFLINE": "1"}
    env.pop("SEQLAB_DATA", None)
    where = subprocess.run(
        [sys.executable, "-c", "import seqlab_spec.shipped as s; print(s.shipped_root())"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.strip() == str((target / "seqlab_spec").resolve())
    sets = [a for s in [*TINY, "train.max_steps=2"] for a in ("--set", s)]
    proc = subprocess.run(
        [sys.executable, "-m", "seqlab_spec.cli", "run", "quickstart", *sets],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (run_dir,) = (work / "runs").iterdir()
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "complete" and record["notebook"] is True
    executed = json.loads((run_dir / "notebook.ipynb").read_text())
    assert executed["metadata"]["papermill"]["input_path"] == str(
        (target / "seqlab_spec" / "notebooks" / "00_quickstart.ipynb").resolve()
    )
    steps = [r["step"] for r in map(json.loads, (run_dir / "train_log.jsonl").read_text().splitlines()) if "loss" in r]
    assert max(steps) == 2
    assert set(json.loads((run_dir / "metrics.json").read_text())) >= {"dev", "test"}
    assert sorted(p.name for p in work.iterdir()) == ["runs"]  # nothing else written where it ran


def test_run_by_name_finds_a_shipped_spec_and_an_existing_file_wins(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_spec_arg("quickstart") == shipped_root() / "specs" / "quickstart.yaml"
    assert resolve_spec_arg("quickstart.yaml") == shipped_root() / "specs" / "quickstart.yaml"
    (tmp_path / "quickstart.yaml").write_text("name: mine\n")
    assert resolve_spec_arg("quickstart.yaml") == Path("quickstart.yaml")
    assert resolve_spec_arg("sub/x.yaml") == Path("sub/x.yaml")  # a path: the loader reports it missing
    with pytest.raises(
        SeqlabError,
        match=r"^quickstrat: no such spec file, nor a shipped spec of that name .*"
        r"one of encoder_conll03_cpu, .*quickstart, ",
    ):
        resolve_spec_arg("quickstrat")


def test_init_copies_the_shipped_specs_and_notebooks_and_never_overwrites(tmp_path, capsys) -> None:
    dest = tmp_path / "course"
    assert cli.main(["init", str(dest)]) == 0
    copied = sorted([*(dest / "specs").iterdir(), *(dest / "notebooks").iterdir()])
    assert [(p.parent.name, p.name) for p in copied] == [(p.parent.name, p.name) for p in SHIPPED]
    assert all(c.read_bytes() == s.read_bytes() for c, s in zip(copied, SHIPPED, strict=True))
    assert capsys.readouterr().out == (
        f"{len(list((ROOT / 'specs').glob('*.yaml')))} specs -> {dest / 'specs'}, "
        f"{len(list((ROOT / 'notebooks').glob('*.ipynb')))} notebooks -> {dest / 'notebooks'}\n"
    )
    (dest / "specs" / "quickstart.yaml").write_text("name: edited\n")
    assert cli.main(["init", str(dest)]) == 1
    assert capsys.readouterr().err == (
        f"error: {dest / 'specs' / 'encoder_conll03_cpu.yaml'} exists ({len(SHIPPED)} files would be overwritten): "
        "use another DIR or --force\n"
    )
    assert (dest / "specs" / "quickstart.yaml").read_text() == "name: edited\n"
    assert cli.main(["init", str(dest), "--force"]) == 0
    assert (dest / "specs" / "quickstart.yaml").read_bytes() == (ROOT / "specs" / "quickstart.yaml").read_bytes()
