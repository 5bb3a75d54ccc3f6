"""The project's own error types: every user mistake surfaces as one of these, with a fix."""

from __future__ import annotations


class SeqlabError(Exception):
    """Base class: an error a user can act on. The message says what and how to fix it."""


class SpecError(SeqlabError):
    """A spec that does not validate. Holds every problem found, one `loc -> msg` row each."""

    def __init__(self, rows: list[str], source: str | None = None):
        self.rows = rows
        self.source = source
        head = f"{source}: " if source else ""
        n = len(rows)
        body = "\n".join(f"  {r}" for r in rows)
        super().__init__(f"{head}{n} error{'s' if n != 1 else ''} in the spec\n{body}")


class DataError(SeqlabError):
    """Input data that cannot be read honestly (names file:line and the fix)."""


class ModelError(SeqlabError):
    """A model that cannot be loaded or does not fit the method."""


class NotAvailableError(SeqlabError, NotImplementedError):
    """A method or option declared in the schema that this version cannot run yet."""
