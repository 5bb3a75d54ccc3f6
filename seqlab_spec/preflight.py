"""Checks only the data and the model can answer, for every run a spec asks for, before anything is written:
a DataError / ModelError here leaves no run folder behind (`seqlab-spec run` exits 1 with it).

The spec loader has already checked everything the spec alone can tell; this reads each split as the run
will (bad lines name file:line), loads the model's config (a hub id without network fails here), and checks
the sizes and shapes that depend on both (k-shot samples, demonstrations, a layer per unmask group).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator, Sequence

from .errors import DataError, ModelError
from .spec import Spec

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
    """Read every split as the run will (DataError with file:line on bad input); warn about missing splits."""
    from .data.load import load_splits, load_target_splits

    with _quiet(log):
        splits = load_splits(spec)
        target = load_target_splits(spec) if spec.data.target is not None else {}
    if "train" not in splits:
        raise DataError(
            "data.train: not set, and every method trains: set data.train to the training file "
            "(for format hf: a train entry in data.hf.splits)"
        )
    for split in spec.eval.splits:
        if split not in splits:
            log.warning(
                "eval.splits: %s is listed but the data has no %s split, so it is not evaluated; "
                "set data.%s or drop %s from eval.splits",
                split,
                split,
                split,
                split,
            )
    return {**splits, **{f"target_{k}": v for k, v in target.items()}}


def _check_sizes(spec: Spec, splits: dict) -> None:
    """Sizes asked for that the data cannot give (k-shot samples, demonstrations, target samples)."""
    from .data.fewshot import sample_k_shot

    train = splits["train"]
    fs = spec.data.few_shot
    if fs is not None:
        samples = sample_k_shot(train, fs.k, n=fs.sample + 1, require_span=fs.require_span, seed=fs.seed)
        train = samples[fs.sample]
    m = spec.method
    if m.name == "sift" and m.k >= len(train):
        raise DataError(
            f"method.k: {m.k} demonstrations per prompt, but the training split holds {len(train)} sentence(s) "
            f"(after data.limit / data.few_shot) and a sentence is never its own demonstration; "
            f"lower method.k to at most {max(len(train) - 1, 0)} or train on more sentences"
        )
    if m.name == "oie-multitask" and m.regime in ("few-shot", "joint"):
        target = splits.get("target_train")
        if target is None:
            raise DataError(f"data.target.train: regime {m.regime} samples from it: set data.target.train")
        if max(m.k) > len(target):
            raise DataError(
                f"method.k: {max(m.k)} target sentences asked for, but data.target.train holds {len(target)}; "
                f"lower method.k"
            )


def _check_model(spec: Spec, configs: dict) -> None:
    """The model resolves and its config loads (a hub id without network fails here); settings that need the
    model's shape (an unmask pattern needs a layer per group) are checked against it."""
    from .models.registry import from_pretrained, resolve

    key = (spec.model.name, spec.model.revision)
    if key not in configs:
        from transformers import AutoConfig

        resolved = resolve(spec.model.name)
        configs[key] = from_pretrained(
            AutoConfig.from_pretrained,
            resolved,
            revision=spec.model.revision,
            trust_remote_code=spec.model.trust_remote_code,
        )
    config = configs[key]
    m = spec.method
    uses_pattern = m.name == "unmask" or (m.name == "oie-multitask" and m.base == "unmask")
    pattern = getattr(m, "unmask", None) if uses_pattern else None
    if isinstance(pattern, str) and pattern != "all":  # a list or `all` is a sweep: checked once expanded
        from .models.unmask import layer_flags

        n_layers = getattr(config, "num_hidden_layers", None)
        if n_layers is not None:
            try:
                layer_flags(pattern, n_layers)
            except ModelError as e:
                raise ModelError(f"method.unmask: {e}") from None


def preflight(specs: Sequence[Spec]) -> None:
    """Check what only the data and the model can tell, for every run a spec asks for, before anything is
    written: a DataError / ModelError here leaves no run folder behind."""
    from .train import check_speed_switches  # imports transformers: not at CLI start-up

    data: dict[str, dict] = {}
    configs: dict = {}
    for spec in specs:
        key = _data_key(spec)
        if key not in data:
            data[key] = _check_data(spec)
        _check_sizes(spec, data[key])
        _check_model(spec, configs)
        check_speed_switches(spec)
        if spec.signal.name == "oie" and spec.signal.source == "spacy":
            from .signals.oie import resolve_pipeline

            resolve_pipeline(spec.signal.pipeline)
