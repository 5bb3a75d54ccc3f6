"""Auxiliary signals for sequence labeling: OIE relation tags (rule-based, on spaCy parses).

`relation_tags(sentences, signal_spec)` is the entry point; spaCy is imported only when a parse runs.
"""

from .cache import relation_tags
from .oie import EXTRACTOR_VERSION, Triple
from .reltags import REL_ID, REL_LABELS

__all__ = ["EXTRACTOR_VERSION", "REL_ID", "REL_LABELS", "Triple", "relation_tags"]
