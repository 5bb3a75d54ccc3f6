"""YAML spec -> Spec, with every problem reported at once as `file:line:col  loc  message` rows.

The steps, in order: parse (ruamel round-trip, which keeps the line/col of every key and value) ->
plain data with ${VAR} / ${VAR:-default} interpolated -> `--set a.b=value` overrides (reader.py) -> data paths
resolved (paths.py) -> pydantic validation (messages.py) -> sweep check (sweep_check.py). Problems of every
step are collected and raised as one SpecError, each row pointing at the key's line in the file or at the
override that caused it.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from ..errors import SpecError
from .locate import Doc, Locator, Row, kind_of
from .messages import cross_rows, dedupe, validate
from .paths import resolve_paths
from .reader import Reader, ReadState, apply_overrides, parse_yaml
from .root import Spec
from .sweep_check import check_sweep, retype_sweep_items

# A caller's extra rule on the validated spec: "dotted.key: message" rows, reported like the spec's own (the
# runner passes machine.hardware_problems: what this machine cannot run is no rule of the spec itself).
Check = Callable[[Spec], list[str]]


# ---------------------------------------------------------------------------------------------- API


def load_spec(
    path: str | Path,
    overrides: Sequence[str] = (),
    *,
    env: Mapping[str, str] | None = None,
    checks: Sequence[Check] = (),
) -> Spec:
    """Read and validate a spec file; relative data paths resolve against the file's folder. `checks`: extra
    rules on the valid spec, their rows pointed at file:line like the spec's own."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError([f"{p}: no such file (`seqlab-spec ls` lists the shipped specs)"], str(p)) from None
    except UnicodeDecodeError as exc:
        raise SpecError([f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start})"], str(p)) from None
    except OSError as exc:
        raise SpecError([f"{p}: cannot read it ({exc.strerror or exc})"], str(p)) from None
    return load_spec_text(text, str(p), overrides, base_dir=p.absolute().parent, env=env, checks=checks)


def load_spec_text(
    text: str,
    source_name: str = "<spec>",
    overrides: Sequence[str] = (),
    base_dir: str | Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    checks: Sequence[Check] = (),
) -> Spec:
    """Validate spec text (tests, notebooks); relative paths resolve against base_dir (default: cwd)."""
    env = os.environ if env is None else env
    base = Path(base_dir).absolute() if base_dir is not None else Path.cwd()
    try:
        tree = parse_yaml(text, source_name)
        if not isinstance(tree, CommentedMap):
            got = "nothing" if tree is None else f"a {kind_of(tree)}"
            raise SpecError(
                [f"{source_name}:1:1  -  the spec must be a mapping of sections (name:, task:, data:, ...), got {got}"],
                source_name,
            )
        file_doc = Doc(source_name, (), 0, text, tree, is_file=True)
        state = ReadState(env=env)
        data = Reader(file_doc, state).plain(tree, ())
        docs = [file_doc]
        docs += apply_overrides(data, overrides, state)
    except RecursionError:
        raise SpecError([f"{source_name}: nested too deeply to read"], source_name) from None
    locator = Locator(docs)
    resolve_paths(data, locator, base, state)
    return _finish(data, locator, state.rows, source_name, checks)


def spec_from_params(params: Mapping[str, Any]) -> Spec:
    """Validate a resolved spec handed over as a plain dict (papermill parameters): same model, same rows."""
    if not isinstance(params, Mapping):
        raise SpecError([f"params  -  expected the spec as a mapping, got {kind_of(params)}"], "params")
    data = copy.deepcopy(dict(params))
    return _finish(data, Locator([Doc("params", (), 0)]), [], "params")


def _finish(data: dict[str, Any], locator: Locator, rows: list[Row], source: str, checks: Sequence[Check] = ()) -> Spec:
    retype_sweep_items(data, locator)
    spec = validate(data, locator, rows, locator.raw)
    rows.extend(check_sweep(data, spec, locator))
    if spec is not None:
        for check in checks:
            rows.extend(cross_rows("\n".join(check(spec)), data, locator))
    if rows:
        raise SpecError([r.render() for r in dedupe(rows)], source)
    assert spec is not None
    return spec
