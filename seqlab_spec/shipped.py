"""The shipped specs and notebooks, wherever the package lives.

A wheel carries them inside the package (`seqlab_spec/specs/*.yaml`, `seqlab_spec/notebooks/*.ipynb`, copied
there at build time by setup.py); a checkout (and an editable install of it) keeps them in the repository's
top-level `specs/` and `notebooks/`, next to the package. Everything that looks for a shipped file asks here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .errors import SeqlabError

PACKAGE_DIR = Path(__file__).resolve().parent
KINDS = {"specs": "*.yaml", "notebooks": "*.ipynb"}


def checkout_root() -> Path | None:
    """The repository root when the package is imported from a checkout (its pyproject.toml beside it)."""
    root = PACKAGE_DIR.parent
    return root if (root / "pyproject.toml").is_file() and (root / "specs").is_dir() else None


def shipped_root() -> Path:
    """The folder holding `specs/` and `notebooks/`: the package itself once installed, else the checkout."""
    if (PACKAGE_DIR / "specs").is_dir():
        return PACKAGE_DIR
    return checkout_root() or PACKAGE_DIR


def shipped_spec(name: str) -> Path:
    """A shipped spec by name (`quickstart` or `quickstart.yaml`); SeqlabError naming the choices if none."""
    folder = shipped_root() / "specs"
    path = folder / (name if name.endswith((".yaml", ".yml")) else f"{name}.yaml")
    if not path.is_file():
        names = ", ".join(p.stem for p in sorted(folder.glob("*.yaml"))) or "(none found)"
        raise SeqlabError(f"{name}: no such spec file, nor a shipped spec of that name ({folder}): one of {names}")
    return path


def resolve_spec_arg(arg: str) -> Path:
    """A SPEC argument: an existing file as given, else a shipped spec of that name (`seqlab-spec run quickstart`
    works from any folder). A path-like argument that does not exist stays as given, for the loader's error."""
    path = Path(arg)
    if path.exists() or len(path.parts) > 1:
        return path
    return shipped_spec(arg)


def copy_out(dest: Path, force: bool = False) -> list[Path]:
    """Copy the shipped specs and notebooks into `dest/specs` and `dest/notebooks` (for editing); refuses to
    overwrite a file unless `force`. Returns the files written."""
    pairs = [
        (src, dest / kind / src.name)
        for kind, pattern in KINDS.items()
        for src in sorted((shipped_root() / kind).glob(pattern))
    ]
    taken = [str(target) for _, target in pairs if target.exists()]
    if taken and not force:
        raise SeqlabError(f"{taken[0]} exists ({len(taken)} files would be overwritten): use another DIR or --force")
    for src, target in pairs:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    return [target for _, target in pairs]
