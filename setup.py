"""Puts the repository's top-level specs/ and notebooks/ inside the built package (seqlab_spec/specs,
seqlab_spec/notebooks), so a wheel or `pip install .` carries them; the rest is in pyproject.toml.

The folders stay at the top of the repository, where users and instructors look for them; a checkout and an
editable install read them there (seqlab_spec/shipped.py finds either layout).
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = {"specs": "*.yaml", "notebooks": "*.ipynb"}


class BuildWithShippedFiles(build_py):
    """build_py, plus specs/*.yaml and notebooks/*.ipynb copied into the package's build folder."""

    def run(self) -> None:
        super().run()
        for folder, pattern in SHIPPED.items():
            target = Path(self.build_lib) / "seqlab_spec" / folder
            self.mkpath(str(target))
            for src in sorted((ROOT / folder).glob(pattern)):
                self.copy_file(str(src), str(target / src.name))


setup(cmdclass={"build_py": BuildWithShippedFiles})
