"""Checks only the data, the model and this machine can answer, for every run a spec asks for, before anything is
written: a DataError / ModelError / NotAvailableError here leaves no run folder behind (`seqlab-spec run` exits 1
with it). What this machine can run is asked of machine.py (QLoRA's CUDA, optimizers, Liger, tracking packages).

The spec loader has already checked everything the spec alone can tell; this reads each split as the run
will (bad lines name file:line), loads the model's config (a hub id without network fails here), and checks
the sizes and shapes that depend on both: k-shot samples here, the method's own (demonstrations, a layer per
unmask group) in its pipeline's `preflight(spec, splits, config)` (seqlab_spec.methods).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator, Sequence

from .. import methods
from ..errors import DataError, ModelError, SpecError
from ..machine import check_train_switches, hardware_problems, require, tracking_problems
from ..spec import Spec

log = logging.getLogger("seqlab_spec")


def _data_key(spec: Spec) -> str:
    d = spec.data.model_dump(mode="json", exclude={"few_shot"})
    return json.dumps([d, spec.task.model_dump(mode="json")], sort_keys=True)


@contextlib.contextmanager
def _quiet(logger: logging.Logger) -> Iterator[None]:
    """Mute a logger's warnings: the run reads the data again and warns then (once, where its output goes)."""
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _check_data(spec: Spec) -> dict:
    """Read every split as the run will (DataError with file:line on bad input)."""
    from ..data.load import load_splits, load_target_splits

    with _quiet(log):
        splits = load_splits(spec)
        target = load_target_splits(spec) if spec.data.target is not None else {}
    if "train" not in splits:
        raise DataError(
            "data.train: not set, and every method trains: set data.train to the training file "
            "(for format hf: a train entry in data.hf.splits)"
        )
    return {**splits, **{f"target_{k}": v for k, v in target.items()}}


def _check_eval_splits(spec: Spec, splits: dict) -> None:
    """A split eval.splits lists must be in the data (the spec loader has checked the spec names a file for it;
    an hf dataset may still lack it). Unset, eval.splits means the splits the data has: nothing to check."""
    for split in spec.eval.splits or []:
        if split not in splits and f"target_{split}" not in splits:
            raise DataError(
                f"eval.splits: {split} is listed but the data has no {split} split; check data.{split}, drop "
                f"{split} from eval.splits, or leave eval.splits unset to evaluate the splits the data has"
            )


def _few_shot_train(spec: Spec, splits: dict) -> list:
    """The training sentences the run will train on: the few-shot sample when the spec asks for one."""
    from ..data.fewshot import sample_k_shot

    fs = spec.data.few_shot
    if fs is None:
        return splits["train"]
    return sample_k_shot(splits["train"], fs.k, n=fs.sample + 1, require_span=fs.require_span, seed=fs.seed)[
        fs.sample
    ]


def _model_config(spec: Spec, configs: dict):
    """The model's config (a hub id without network fails here), loaded once per (name, revision)."""
    from ..machine import model_config

    key = (spec.model.name, spec.model.revision)
    if key not in configs:
        configs[key] = model_config(spec)
    return configs[key]


HEADS = ("classifier", "score")  # transformers' token-classification heads (BERT-likes, GPT-likes)


def _check_lora_targets(spec: Spec, config) -> None:
    """Explicit model.peft.target_modules name linear layers of the backbone (peft matches a name or its
    dotted suffix), and not a tagging head (trained fully). A skeleton on the meta device: no weights read."""
    targets = spec.model.peft.target_modules
    if spec.model.peft.method != "lora" or not isinstance(targets, list):
        return
    head = [t for t in targets if t in HEADS]
    if head and spec.method.name == "encoder":
        raise ModelError(
            f"model.peft.target_modules: {head[0]!r} is the tagging head, which is trained fully (no adapter); "
            "remove it from the list (or use all-linear: LoRA on the backbone's linear layers)"
        )
    import torch
    from transformers import AutoModel
    from transformers.pytorch_utils import Conv1D

    with torch.device("meta"):
        skeleton = AutoModel.from_config(config)
    linear = [n for n, mod in skeleton.named_modules() if isinstance(mod, (torch.nn.Linear, Conv1D))]
    for t in targets:
        if not any(n == t or n.endswith("." + t) for n in linear):
            leaves = sorted({n.rsplit(".", 1)[-1] for n in linear})
            raise ModelError(
                f"model.peft.target_modules: {t!r} is no linear layer of {spec.model.name}; its linear layers "
                f"are named {', '.join(leaves)} (or use all-linear)"
            )


def preflight(specs: Sequence[Spec]) -> None:
    """Check what only the data and the model can tell, for every run a spec asks for, before anything is
    written: a DataError / ModelError here leaves no run folder behind."""
    data: dict[str, dict] = {}
    configs: dict = {}
    for spec in specs:
        hardware = hardware_problems(spec)
        if hardware:
            raise SpecError(hardware, spec.name)
        check_train_switches(spec)
        key = _data_key(spec)
        if key not in data:
            data[key] = _check_data(spec)
        _check_eval_splits(spec, data[key])
        splits = {**data[key], "train": _few_shot_train(spec, data[key])}
        config = _model_config(spec, configs)
        _check_lora_targets(spec, config)
        method_checks = getattr(methods.pipeline(spec.method.name), "preflight", None)
        if method_checks is not None:  # sizes and shapes only this method's data and model can tell
            method_checks(spec, splits, config)
        require(tracking_problems(spec))
        if spec.signal.name == "oie" and spec.signal.source == "spacy":
            from ..signals.oie import resolve_pipeline

            resolve_pipeline(spec.signal.pipeline)
