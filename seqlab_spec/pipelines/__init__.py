"""One module per method: the ordered steps a notebook calls, and run() = all of them."""

from __future__ import annotations

import importlib

from ..errors import NotAvailableError

MODULES = {"encoder": "tagger", "unmask": "tagger", "oie-multitask": "oie", "sift": "sift"}


def for_method(name: str):
    """The pipeline module of a method; a clear error for one that is not available yet."""
    try:
        return importlib.import_module(f".{MODULES[name]}", __name__)
    except ModuleNotFoundError as e:
        if e.name and e.name.startswith(__name__):
            raise NotAvailableError(
                f"method {name!r} is part of the spec schema but not available in this version yet; "
                "use method: encoder (or unmask) for now"
            ) from e
        raise
