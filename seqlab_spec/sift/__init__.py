"""SIFT (supervised in-context fine-tuning; Dukić, Glavaš & Šnajder 2025): generative sequence labeling.

prompt (template + offsets) -> demos (selection, token budget) -> masks (vanilla/src/mrc loss) ->
collator (training batches) -> decode (greedy generation; `constrain`: the logits processor of
`method.decoding: constrained`) -> formats (response text <-> spans).
"""

from .collator import SiftCollator, build_train_examples
from .decode import Predictions, build_eval_prompts, generate, max_new_tokens_for, predict_spans
from .demos import DemoSelector, fit_prompt, select
from .formats import ParseResult, parse, render, spans_to_bio
from .masks import build_labels, encode, loss_positions
from .prompt import Prompt, PromptConfig, build_prompt

__all__ = [
    "DemoSelector",
    "ParseResult",
    "Predictions",
    "Prompt",
    "PromptConfig",
    "SiftCollator",
    "build_eval_prompts",
    "build_labels",
    "build_prompt",
    "build_train_examples",
    "encode",
    "fit_prompt",
    "generate",
    "loss_positions",
    "max_new_tokens_for",
    "parse",
    "predict_spans",
    "render",
    "select",
    "spans_to_bio",
]
