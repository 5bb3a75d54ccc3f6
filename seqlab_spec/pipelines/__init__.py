"""One module per built-in method: the ordered steps a notebook calls, and run() = all of them.

Which module serves which method is the method registry's (seqlab_spec.methods); `for_method` reads it.
"""

from __future__ import annotations

from types import ModuleType

from .. import methods


def for_method(name: str) -> ModuleType:
    """The pipeline module of a registered method (`methods.pipeline`, kept for notebooks and benchmarks)."""
    return methods.pipeline(name)
