"""The experiment spec: pydantic models (one module per concern) and the YAML loader."""

from .root import Spec

__all__ = ["Spec"]
