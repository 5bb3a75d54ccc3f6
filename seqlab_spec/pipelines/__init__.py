"""One module per method: the ordered steps a notebook calls, and run() = all of them."""

from __future__ import annotations

import importlib

MODULES = {"encoder": "tagger", "unmask": "tagger", "oie-multitask": "oie", "sift": "sift"}


def for_method(name: str):
    """The pipeline module of a method (a name of spec.method.METHOD_NAMES)."""
    return importlib.import_module(f".{MODULES[name]}", __name__)
