"""pyproject.toml holds compatible ranges; constraints.txt the exact, tested set that the Makefile, environment.yml
and CI install from. Every dependency must be pinned there, inside its range, and every installer must use it."""

import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def _constraints() -> dict[str, str]:
    pins: dict[str, str] = {}
    for n, line in enumerate((ROOT / "constraints.txt").read_text().splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;+]+)", line)
        assert m, f"constraints.txt:{n}: not an exact pin: {line!r}"
        name = canonicalize_name(m.group(1))
        assert name not in pins, f"constraints.txt:{n}: {name} pinned twice"
        pins[name] = m.group(2)
    return pins


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    return [Requirement(r) for r in [*project["dependencies"], *(r for reqs in extras.values() for r in reqs)]]


def test_every_dependency_is_a_range_whose_lower_bound_is_the_pinned_tested_version() -> None:
    pins = _constraints()
    for req in _requirements():
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is in pyproject.toml but not pinned in constraints.txt"
        assert req.specifier.contains(pins[name]), f"constraints.txt pins {name}=={pins[name]} outside {req}"
        lower = [s.version for s in req.specifier if s.operator == ">="]
        assert lower and all(s.operator in (">=", "<") for s in req.specifier), f"{req}: write >=TESTED,<NEXT"
        assert Version(lower[0]) == Version(pins[name]), f"{req}: the lower bound is not the tested {pins[name]}"


def test_make_environment_yml_and_ci_install_from_the_constraints() -> None:
    makefile = (ROOT / "Makefile").read_text()
    installs = [line.strip() for line in makefile.splitlines() if "pip install" in line and "--upgrade pip" not in line]
    assert installs and all(line.endswith("-c constraints.txt") for line in installs), installs
    assert f"torch=={_constraints()['torch']} -c constraints.txt" in makefile  # torch first, the CPU build
    assert "$(STAMP): pyproject.toml constraints.txt" in makefile
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip == ["-r constraints.txt"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()
