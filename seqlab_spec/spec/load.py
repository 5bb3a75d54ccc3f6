"""YAML spec -> Spec, with every problem reported at once as `file:line:col  loc  message` rows.

The steps, in order: parse (ruamel round-trip, which keeps the line/col of every key and value) ->
plain data with ${VAR} / ${VAR:-default} interpolated -> `--set a.b=value` overrides -> data paths
resolved -> pydantic validation -> sweep check. Problems of every step are collected and raised as one
SpecError, each row pointing at the key's line in the file or at the override that caused it.
"""

from __future__ import annotations

import copy
import datetime
import difflib
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import ValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSet, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

from ..errors import SpecError
from ..models.aliases import ALIASES
from .locate import Doc, Loc, Locator, Row, dotted, get_at, kind_of, plain_key, yaml_loader
from .messages import clean_loc, cross_rows, dedupe, error_rows, fields_at, is_number_like, same_scalar, validate
from .overrides import grid_size, parse_override, set_path, split_path, sweep_grid
from .root import Spec

PACKAGE_DIR = Path(__file__).resolve().parents[1]
# Fields holding data files: relative values resolve against the spec file's folder.
PATH_FIELDS: tuple[Loc, ...] = (
    ("data", "train"),
    ("data", "dev"),
    ("data", "test"),
    ("data", "target", "train"),
    ("data", "target", "dev"),
    ("data", "target", "test"),
    ("data", "target", "unlabeled"),
    ("signal", "path"),
)
MAX_VALUES = 100_000  # a spec is small: more than this is an alias bomb, not an experiment
SWEEP_CHECK_LIMIT = 512  # combinations validated one by one; bigger grids get only their keys checked

_REF = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_VAR = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$", re.S)
_STD_TAG = "tag:yaml.org,2002:"
# A caller's extra rule on the validated spec: "dotted.key: message" rows, reported like the spec's own (the
# runner passes preflight.hardware_problems: what this machine cannot run is no rule of the spec itself).
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
        tree = _parse_yaml(text, source_name)
        if not isinstance(tree, CommentedMap):
            got = "nothing" if tree is None else f"a {kind_of(tree)}"
            raise SpecError(
                [f"{source_name}:1:1  -  the spec must be a mapping of sections (name:, task:, data:, ...), got {got}"],
                source_name,
            )
        file_doc = Doc(source_name, (), 0, text, tree, is_file=True)
        state = _State(env=env)
        data = _Reader(file_doc, state).plain(tree, ())
        docs = [file_doc]
        docs += _apply_overrides(data, overrides, state)
    except RecursionError:
        raise SpecError([f"{source_name}: nested too deeply to read"], source_name) from None
    locator = Locator(docs)
    _resolve_paths(data, locator, base, state)
    return _finish(data, locator, state.rows, source_name, checks)


def spec_from_params(params: Mapping[str, Any]) -> Spec:
    """Validate a resolved spec handed over as a plain dict (papermill parameters): same model, same rows."""
    if not isinstance(params, Mapping):
        raise SpecError([f"params  -  expected the spec as a mapping, got {kind_of(params)}"], "params")
    data = copy.deepcopy(dict(params))
    return _finish(data, Locator([Doc("params", (), 0)]), [], "params")


# ------------------------------------------------------------------------------------- internals


@dataclass
class _State:
    env: Mapping[str, str]
    rows: list[Row] = field(default_factory=list)
    env_paths: set[Loc] = field(default_factory=set)  # values that start with a ${VAR} from the environment


def _parse_yaml(text: str, source: str) -> Any:
    try:
        return yaml_loader().load(text)
    except MarkedYAMLError as exc:
        raise SpecError([_yaml_row(exc, source)], source) from None
    except YAMLError as exc:
        raise SpecError([f"{source}  (yaml)  {exc}"], source) from None


def _yaml_row(exc: MarkedYAMLError, source: str) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source
    problem = (exc.problem or "invalid YAML").split("\n")[0]
    if exc.context and exc.context_mark is not None and exc.context_mark is not mark:
        problem += f" ({exc.context.strip()} at line {exc.context_mark.line + 1})"
    if "'\\t'" in problem:
        problem += "; indent with spaces, not tabs"
    return f"{where}  (yaml)  {problem}"


class _Reader:
    """ruamel nodes -> plain dicts, lists and scalars, with ${VAR} interpolated in strings."""

    def __init__(self, doc: Doc, state: _State):
        self.doc = doc
        self.state = state
        self.count = 0  # values produced: aliases are expanded (each place gets its own copy), within a budget

    def problem(self, rest: Loc, message: str) -> None:
        where, order = self.doc.where(rest)
        self.state.rows.append(Row(where, self.doc.prefix + rest, message, order, kind="read"))

    def plain(self, node: Any, rest: Loc) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            raise SpecError([f"{self.doc.label}: YAML aliases expand to more than {MAX_VALUES} values"], self.doc.label)
        if isinstance(node, dict | list):
            tag = getattr(getattr(node, "tag", None), "value", None)
            if tag and not tag.startswith(_STD_TAG):
                self.problem(rest, f"YAML tag {tag} is not supported here; remove it")
                return None
            if isinstance(node, dict):
                return {plain_key(k): self.plain(v, (*rest, plain_key(k))) for k, v in node.items()}
            return [self.plain(v, (*rest, i)) for i, v in enumerate(node)]
        if node is None or isinstance(node, bool):
            return node
        if isinstance(node, ScalarBoolean):
            return bool(node)
        if isinstance(node, int):
            return int(node)
        if isinstance(node, float):
            return float(node)
        if isinstance(node, str):
            return self.string(str(node), rest)
        if isinstance(node, datetime.date | bytes):
            return node
        if isinstance(node, TaggedScalar):
            self.problem(rest, f"YAML tag {node.tag.value} is not supported here; remove it")
            return None
        if isinstance(node, CommentedSet):
            self.problem(rest, "a YAML set (!!set) is not supported here; write a list [a, b]")
            return None
        self.problem(rest, f"unsupported YAML value of type {type(node).__name__}")
        return None

    def string(self, text: str, rest: Loc) -> str:
        value, problems, from_env = interpolate(text, self.state.env)
        for p in problems:
            self.problem(rest, p)
        if from_env:
            self.state.env_paths.add(self.doc.prefix + rest)
        return value


def interpolate(text: str, env: Mapping[str, str]) -> tuple[str, list[str], bool]:
    """Expand ${VAR} and ${VAR:-default} (as in the shell: the default when unset or empty).

    `$${` is a literal `${`.

    Returns (text, problems, whether the text starts with a value taken from the environment).
    """
    problems: list[str] = []
    from_env = False

    def sub(m: re.Match[str]) -> str:
        nonlocal from_env
        token = m.group(0)
        if token == "$${":
            return "${"
        if m.group(1) is None:
            problems.append("unclosed '${' (write $${ for a literal ${)")
            return token
        vm = _VAR.match(m.group(1))
        if vm is None:
            problems.append(f"{token!r} is not ${{VAR}} or ${{VAR:-default}}")
            return token
        name, default = vm.group(1), vm.group(2)
        value = env.get(name)
        if value is not None and (value != "" or default is None):
            from_env = from_env or m.start() == 0
            return value
        if default is not None:
            return default
        if name == "SEQLAB_DATA":
            problems.append(
                "${SEQLAB_DATA} is not set: this spec reads corpora that are not redistributed; "
                "export SEQLAB_DATA=/path/to/your/copies (the folder holding conll2003/, ...)"
            )
            return token
        problems.append(f"${{{name}}} is not set: export {name}=... or write ${{{name}:-default}}")
        return token

    return _REF.sub(sub, text), problems, from_env


def _apply_overrides(data: dict[str, Any], overrides: Sequence[str], state: _State) -> list[Doc]:
    docs: list[Doc] = []
    for i, expr in enumerate(overrides, start=1):
        label = f"--set {expr}"
        try:
            ov = parse_override(expr)
        except ValueError as exc:
            state.rows.append(Row(label, (), str(exc), (i, 0, 0)))
            continue
        try:
            tree = yaml_loader().load(ov.text) if ov.text else None
        except YAMLError as exc:
            problem = getattr(exc, "problem", None) or str(exc).split("\n")[0]
            state.rows.append(Row(label, ov.path, f"cannot read the value as YAML: {problem}", (i, 0, 0)))
            continue
        doc = Doc(label, ov.path, i, ov.text, tree)
        value = _Reader(doc, state).plain(tree, ())
        try:
            set_path(data, ov.path, value)
        except ValueError as exc:
            state.rows.append(Row(label, ov.path, str(exc), (i, 0, 0)))
            continue
        docs.append(doc)
    return docs


def _resolve_paths(data: dict[str, Any], locator: Locator, base: Path, state: _State) -> None:
    """Relative data paths and model folders: against the spec's folder when written in the file, else the
    working dir."""
    for loc in PATH_FIELDS:
        parent = get_at(data, loc[:-1])
        if not isinstance(parent, dict) or not isinstance(parent.get(loc[-1]), str):
            continue
        doc, _ = locator.doc_for(loc)
        anchor = base if doc.is_file and loc not in state.env_paths else Path.cwd()
        try:
            parent[loc[-1]] = resolve_data_path(parent[loc[-1]], anchor)
        except ValueError as exc:
            state.rows.append(locator.row(loc, str(exc)))
    for loc in (("model", "name"), ("data", "hf", "name")):  # local folders or hub ids
        parent = get_at(data, loc[:-1])
        if isinstance(parent, dict) and isinstance(parent.get(loc[-1]), str):
            doc, _ = locator.doc_for(loc)
            anchor = base if doc.is_file and loc not in state.env_paths else Path.cwd()
            parent[loc[-1]] = resolve_model_name(parent[loc[-1]], anchor)


def resolve_data_path(value: str, base: Path) -> str:
    """`pkg:NAME/file` -> the bundled dataset file; relative -> under `base`; absolute stays."""
    if not value:
        return value
    if value.startswith("pkg:"):
        rest = value[4:]
        parts = PurePosixPath(rest).parts
        if not rest or rest.startswith("/") or ".." in parts:
            raise ValueError(f"{value!r}: bundled paths are pkg:NAME/file (a file under seqlab_spec/datasets/NAME)")
        return str(PACKAGE_DIR / "datasets" / rest)
    p = Path(value).expanduser()
    return os.path.normpath(p if p.is_absolute() else base / p)


def resolve_model_name(value: str, base: Path) -> str:
    """A local model (or data.hf dataset) folder written relative to the spec resolves like a data path;
    aliases and hub ids (owner/name, which exist on no disk) stay as written."""
    if value in ALIASES or not value:
        return value
    p = Path(value).expanduser()
    if p.is_absolute():
        return str(p)
    explicit = value in (".", "..") or value.startswith(("./", "../", ".\\", "..\\"))
    candidate = base / p
    return os.path.normpath(candidate) if explicit or candidate.exists() else value


# ---------------------------------------------------------------------------------- validation


def _finish(data: dict[str, Any], locator: Locator, rows: list[Row], source: str, checks: Sequence[Check] = ()) -> Spec:
    _retype_sweep_items(data, locator)
    spec = validate(data, locator, rows, locator.raw)
    rows.extend(_check_sweep(data, spec, locator))
    if spec is not None:
        for check in checks:
            rows.extend(cross_rows("\n".join(check(spec)), data, locator))
    if rows:
        raise SpecError([r.render() for r in dedupe(rows)], source)
    assert spec is not None
    return spec


# -------------------------------------------------------------------------------------- sweep


def _retype_sweep_items(data: dict[str, Any], locator: Locator) -> None:
    """`sweep: {method.unmask: [0000, 0110]}`: give number-typed items their source text where the
    swept field wants text, so the stored sweep holds what the user wrote."""
    sweep = data.get("sweep")
    if not isinstance(sweep, dict):
        return
    for key, values in sweep.items():
        if not isinstance(values, list):
            continue
        try:
            path = split_path(str(key))
        except ValueError:
            continue
        for i, item in enumerate(values):
            if not is_number_like(item):
                continue
            trial = {k: v for k, v in data.items() if k != "sweep"}
            trial = copy.deepcopy(trial)
            try:
                set_path(trial, path, item)
                Spec.model_validate(trial)
            except ValueError as exc:  # ValidationError is a ValueError
                errors = exc.errors(include_url=False) if isinstance(exc, ValidationError) else []
                if any(e["type"] == "string_type" and clean_loc(e["loc"], trial, e["type"]) == path for e in errors):
                    text = locator.raw(("sweep", key, i))
                    if text is not None and same_scalar(text, item):
                        values[i] = text


def _check_sweep(data: dict[str, Any], spec: Spec | None, locator: Locator) -> list[Row]:
    """Sweep keys must be paths of the spec; with a valid base spec every combination must validate."""
    sweep = data.get("sweep")
    if not isinstance(sweep, dict) or not sweep:
        return []
    rows: list[Row] = []
    paths: dict[str, tuple[str, ...]] = {}
    for key, values in sweep.items():
        loc: Loc = ("sweep", key)
        try:
            path = split_path(str(key))
        except ValueError as exc:
            rows.append(locator.row(loc, str(exc), key=True))
            continue
        problem = _unknown_path(path, data)
        if problem:
            rows.append(locator.row(loc, problem, key=True))
        elif isinstance(values, list) and not values:
            rows.append(locator.row(loc, "an empty list of values: give at least one"))
        else:
            paths[str(key)] = path
    if rows or spec is None or not isinstance(data.get("sweep"), dict) or grid_size(sweep) > SWEEP_CHECK_LIMIT:
        return rows
    base = {k: v for k, v in data.items() if k != "sweep"}
    seen: set[str] = set()
    for combo in sweep_grid(sweep):
        trial = copy.deepcopy(base)
        for key, value in combo.items():
            set_path(trial, paths[key], copy.deepcopy(value))
        try:
            Spec.model_validate(trial)
            continue
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
        scratch = Locator([Doc("sweep", (), 0)])
        for r in error_rows(errors, trial, scratch):
            if r.message in seen:
                continue
            seen.add(r.message)
            # point at the swept value the problem is about; a cross-field problem names the whole combination
            target: Loc = ("sweep",)
            label = ", ".join(f"{k}={v!r}" for k, v in combo.items())
            for key, value in combo.items():
                if r.loc[: len(paths[key])] == paths[key]:
                    target = ("sweep", key, sweep[key].index(value))
                    label = label if r.kind == "cross" else f"{key}={value!r}"
            detail = f"{dotted(r.loc)}: {r.message}" if r.loc else r.message
            rows.append(locator.row(target, f"with {label}: {detail}"))
    return rows


def _unknown_path(path: tuple[str, ...], data: Any) -> str | None:
    for i, part in enumerate(path):
        fields = fields_at(path[:i], data, any_method=True)
        if fields is None:
            return None if i > 0 else f"unknown key path {'.'.join(path)!r}"
        if part not in fields:
            close = difflib.get_close_matches(part, list(fields), n=1, cutoff=0.6)
            hint = f" — did you mean {'.'.join((*path[:i], close[0]))!r}?" if close else ""
            return f"unknown key path {'.'.join(path)!r}{hint}"
    return None
