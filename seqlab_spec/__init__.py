"""seqlab-spec: declarative experiments for sequence labeling with pre-trained language models."""

__version__ = "0.1.0"
