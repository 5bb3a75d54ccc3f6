"""Bundled CC BY 4.0 data (WNUT-17, LitBank events); spec paths `pkg:<folder>/<file>` point here."""

from __future__ import annotations

from pathlib import Path

DATASETS_DIR = Path(__file__).resolve().parent
PKG_PREFIX = "pkg:"


def resolve(path: str | Path) -> Path:
    """`pkg:wnut17/emerging.dev.conll` -> the bundled file; any other path unchanged."""
    s = str(path)
    if s.startswith(PKG_PREFIX):
        return DATASETS_DIR / s[len(PKG_PREFIX) :].lstrip("/")
    return Path(s)
