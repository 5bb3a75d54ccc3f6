"""YAML spec -> Spec, with every problem reported at once as `file:line:col  loc  message` rows.

The steps, in order: parse (ruamel round-trip, which keeps the line/col of every key and value) ->
plain data with ${VAR} / ${VAR:-default} interpolated -> `--set a.b=value` overrides -> data paths
resolved -> pydantic validation -> sweep check. Problems of every step are collected and raised as one
SpecError, each row pointing at the key's line in the file or at the override that caused it.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import difflib
import os
import re
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, CommentedSet, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

from ..errors import SpecError
from ..models.aliases import ALIASES
from .overrides import grid_size, parse_override, set_path, split_path, sweep_grid
from .root import Spec

Loc = tuple[str | int, ...]

PACKAGE_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = PACKAGE_DIR.parent
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
_CROSS = re.compile(r"^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*): (.+)$", re.S)
_STD_TAG = "tag:yaml.org,2002:"


# ---------------------------------------------------------------------------------------------- API


def load_spec(path: str | Path, overrides: Sequence[str] = (), *, env: Mapping[str, str] | None = None) -> Spec:
    """Read and validate a spec file; relative data paths resolve against the file's folder."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError([f"{p}: no such file (`seqlab-spec ls` lists the shipped specs)"], str(p)) from None
    except UnicodeDecodeError as exc:
        raise SpecError([f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start})"], str(p)) from None
    except OSError as exc:
        raise SpecError([f"{p}: cannot read it ({exc.strerror or exc})"], str(p)) from None
    return load_spec_text(text, str(p), overrides, base_dir=p.absolute().parent, env=env)


def load_spec_text(
    text: str,
    source_name: str = "<spec>",
    overrides: Sequence[str] = (),
    base_dir: str | Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
) -> Spec:
    """Validate spec text (tests, notebooks); relative paths resolve against base_dir (default: cwd)."""
    env = os.environ if env is None else env
    base = Path(base_dir).absolute() if base_dir is not None else Path.cwd()
    try:
        tree = _parse_yaml(text, source_name)
        if not isinstance(tree, CommentedMap):
            got = "nothing" if tree is None else f"a {_kind(tree)}"
            raise SpecError(
                [f"{source_name}:1:1  -  the spec must be a mapping of sections (name:, task:, data:, ...), got {got}"],
                source_name,
            )
        file_doc = _Doc(source_name, (), 0, text, tree, is_file=True)
        state = _State(env=env)
        data = _Reader(file_doc, state).plain(tree, ())
        docs = [file_doc]
        docs += _apply_overrides(data, overrides, state)
    except RecursionError:
        raise SpecError([f"{source_name}: nested too deeply to read"], source_name) from None
    locator = _Locator(docs)
    _resolve_paths(data, locator, base, state)
    return _finish(data, locator, state.rows, source_name)


def spec_from_params(params: Mapping[str, Any]) -> Spec:
    """Validate a resolved spec handed over as a plain dict (papermill parameters): same model, same rows."""
    if not isinstance(params, Mapping):
        raise SpecError([f"params  -  expected the spec as a mapping, got {_kind(params)}"], "params")
    data = copy.deepcopy(dict(params))
    return _finish(data, _Locator([_Doc("params", (), 0)]), [], "params")


# ------------------------------------------------------------------------------------- internals


@dataclass(frozen=True)
class _Row:
    where: str
    loc: Loc
    message: str
    order: tuple[int, int, int]
    # "read": a value left unusable while reading (hides pydantic's rows about it); "field" and "cross":
    # pydantic's rows about one field or across sections; "input": other problems (overrides, paths)
    kind: str = "input"

    def render(self) -> str:
        return f"{self.where}  {_dotted(self.loc) or '-'}  {self.message}"


@dataclass
class _State:
    env: Mapping[str, str]
    rows: list[_Row] = field(default_factory=list)
    env_paths: set[Loc] = field(default_factory=set)  # values that start with a ${VAR} from the environment


@dataclass
class _Doc:
    """One YAML text and where its root lands in the spec: the file at (), an override at its key path."""

    label: str  # the file's name, "--set a.b=v" or "params"
    prefix: Loc
    index: int  # 0 = the file; overrides count from 1 (later ones win)
    text: str = ""
    tree: Any = None
    is_file: bool = False

    def position(self, rest: Loc, key: bool = False) -> tuple[int, int] | None:
        """0-based (line, col) of the value (or key) at `rest`, else of its nearest written ancestor."""
        node = self.tree
        pos = (node.lc.line, node.lc.col) if isinstance(node, CommentedMap | CommentedSeq) else None
        for i, part in enumerate(rest):
            at_key = key and i == len(rest) - 1
            if isinstance(node, CommentedMap):
                k = _original_key(node, part)
                if k is _MISSING:
                    return pos
                try:
                    pos = tuple(node.lc.key(k) if at_key else node.lc.value(k))  # type: ignore[assignment]
                except (KeyError, TypeError):  # a key merged in with `<<:` has no position of its own
                    pass
                node = node[k]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
                try:
                    pos = tuple(node.lc.item(part))  # type: ignore[assignment]
                except (KeyError, TypeError):
                    pass
                node = node[part]
            else:
                return pos
        return pos

    def where(self, rest: Loc, key: bool = False) -> tuple[str, tuple[int, int, int]]:
        if not self.is_file:
            return self.label, (self.index, 0, 0)
        pos = self.position(rest, key)
        if pos is None:
            return self.label, (0, 0, 0)
        return f"{self.label}:{pos[0] + 1}:{pos[1] + 1}", (0, pos[0], pos[1])

    def raw(self, rest: Loc) -> str | None:
        """The source text of the plain scalar at `rest` (to recover `0110` that YAML read as 110)."""
        if self.tree is None:
            return None
        if not rest and not isinstance(self.tree, CommentedMap | CommentedSeq):
            return self.text.strip() or None
        pos = self.position(rest)
        if pos is None:
            return None
        lines = self.text.splitlines()
        if pos[0] >= len(lines):
            return None
        m = re.match(r"[^\s,\[\]{}#&*!'\"][^\s,\[\]{}#]*", lines[pos[0]][pos[1] :])
        return m.group(0) if m else None


class _Missing:
    pass


_MISSING = _Missing()


def _original_key(node: CommentedMap, part: str | int) -> Any:
    for k in node:
        if _plain_key(k) == part:
            return k
    return _MISSING


class _Locator:
    """Maps a spec location to the document that wrote it (the last override wins)."""

    def __init__(self, docs: list[_Doc]):
        self.docs = docs

    def doc_for(self, loc: Loc) -> tuple[_Doc, Loc]:
        for doc in reversed(self.docs):
            n = len(doc.prefix)
            if loc[:n] == doc.prefix:
                return doc, loc[n:]
        return self.docs[0], loc

    def row(self, loc: Loc, message: str, key: bool = False) -> _Row:
        doc, rest = self.doc_for(loc)
        where, order = doc.where(rest, key)
        return _Row(where, loc, message, order)

    def raw(self, loc: Loc) -> str | None:
        doc, rest = self.doc_for(loc)
        return doc.raw(rest)


def _yaml() -> YAML:
    y = YAML(typ="rt", pure=True)
    y.allow_duplicate_keys = False
    return y


def _parse_yaml(text: str, source: str) -> Any:
    try:
        return _yaml().load(text)
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


def _kind(x: Any) -> str:
    if isinstance(x, Mapping):
        return "mapping"
    if isinstance(x, list | tuple):
        return "list"
    return type(x).__name__


def _plain_key(k: Any) -> str:
    if k is None:
        return "null"
    if isinstance(k, bool | ScalarBoolean):
        return "true" if k else "false"
    return str(k)


class _Reader:
    """ruamel nodes -> plain dicts, lists and scalars, with ${VAR} interpolated in strings."""

    def __init__(self, doc: _Doc, state: _State):
        self.doc = doc
        self.state = state
        self.count = 0  # values produced: aliases are expanded (each place gets its own copy), within a budget

    def problem(self, rest: Loc, message: str) -> None:
        where, order = self.doc.where(rest)
        self.state.rows.append(_Row(where, self.doc.prefix + rest, message, order, kind="read"))

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
                return {_plain_key(k): self.plain(v, (*rest, _plain_key(k))) for k, v in node.items()}
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
    SEQLAB_DATA, when unset, defaults to <repo>/../shared/data if that folder exists.
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
            fallback = default_seqlab_data()
            if fallback is not None:
                return str(fallback)
            problems.append(
                f"${{SEQLAB_DATA}} is not set and {REPO_ROOT.parent / 'shared' / 'data'} does not exist: "
                "export SEQLAB_DATA=/path/to/shared/data"
            )
            return token
        problems.append(f"${{{name}}} is not set: export {name}=... or write ${{{name}:-default}}")
        return token

    return _REF.sub(sub, text), problems, from_env


def default_seqlab_data() -> Path | None:
    """<repo>/../shared/data when that folder exists (the layout of the development machines)."""
    folder = Path(os.path.normpath(REPO_ROOT.parent / "shared" / "data"))
    return folder if folder.is_dir() else None


def _apply_overrides(data: dict[str, Any], overrides: Sequence[str], state: _State) -> list[_Doc]:
    docs: list[_Doc] = []
    for i, expr in enumerate(overrides, start=1):
        label = f"--set {expr}"
        try:
            ov = parse_override(expr)
        except ValueError as exc:
            state.rows.append(_Row(label, (), str(exc), (i, 0, 0)))
            continue
        try:
            tree = _yaml().load(ov.text) if ov.text else None
        except YAMLError as exc:
            problem = getattr(exc, "problem", None) or str(exc).split("\n")[0]
            state.rows.append(_Row(label, ov.path, f"cannot read the value as YAML: {problem}", (i, 0, 0)))
            continue
        doc = _Doc(label, ov.path, i, ov.text, tree)
        value = _Reader(doc, state).plain(tree, ())
        try:
            set_path(data, ov.path, value)
        except ValueError as exc:
            state.rows.append(_Row(label, ov.path, str(exc), (i, 0, 0)))
            continue
        docs.append(doc)
    return docs


def _resolve_paths(data: dict[str, Any], locator: _Locator, base: Path, state: _State) -> None:
    """Relative data paths and model folders: against the spec's folder when written in the file, else the
    working dir."""
    for loc in PATH_FIELDS:
        parent = _get(data, loc[:-1])
        if not isinstance(parent, dict) or not isinstance(parent.get(loc[-1]), str):
            continue
        doc, _ = locator.doc_for(loc)
        anchor = base if doc.is_file and loc not in state.env_paths else Path.cwd()
        try:
            parent[loc[-1]] = resolve_data_path(parent[loc[-1]], anchor)
        except ValueError as exc:
            state.rows.append(locator.row(loc, str(exc)))
    model = data.get("model")
    if isinstance(model, dict) and isinstance(model.get("name"), str):
        doc, _ = locator.doc_for(("model", "name"))
        anchor = base if doc.is_file and ("model", "name") not in state.env_paths else Path.cwd()
        model["name"] = resolve_model_name(model["name"], anchor)


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
    """A local model folder written relative to the spec resolves like a data path; aliases and hub ids
    (owner/name, which exist on no disk) stay as written."""
    if value in ALIASES or not value:
        return value
    p = Path(value).expanduser()
    if p.is_absolute():
        return str(p)
    explicit = value in (".", "..") or value.startswith(("./", "../", ".\\", "..\\"))
    candidate = base / p
    return os.path.normpath(candidate) if explicit or candidate.exists() else value


def _get(data: Any, loc: Loc) -> Any:
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return None
    return node


def _set(data: Any, loc: Loc, value: Any) -> None:
    parent = _get(data, loc[:-1])
    parent[loc[-1]] = value


# ---------------------------------------------------------------------------------- validation


def _finish(data: dict[str, Any], locator: _Locator, rows: list[_Row], source: str) -> Spec:
    _retype_sweep_items(data, locator)
    spec = _validate(data, locator, rows, locator.raw)
    rows.extend(_check_sweep(data, spec, locator))
    if rows:
        raise SpecError([r.render() for r in _dedupe(rows)], source)
    assert spec is not None
    return spec


def _validate(
    data: dict[str, Any], locator: _Locator, rows: list[_Row], raw: Callable[[Loc], str | None]
) -> Spec | None:
    """Validate; a number that YAML typed where the field wants text gets its source text back."""
    for _ in range(4):
        try:
            return Spec.model_validate(data)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
        if not _retype_numbers(errors, data, raw):
            break
    rows.extend(_error_rows(errors, data, locator))
    return None


def _retype_numbers(errors: list[Any], data: Any, raw: Callable[[Loc], str | None]) -> bool:
    changed = False
    for err in errors:
        value = err.get("input")
        if err["type"] != "string_type" or isinstance(value, bool) or not _is_number_like(value):
            continue
        loc = _clean_loc(err["loc"], data, err["type"])
        text = raw(loc)
        if text is not None and _same_scalar(text, value) and _get(data, loc) == value:
            _set(data, loc, text)
            changed = True
    return changed


def _is_number_like(x: Any) -> bool:
    return isinstance(x, int | float | datetime.date) and not isinstance(x, bool)


def _same_scalar(text: str, value: Any) -> bool:
    try:
        return _yaml().load(text) == value
    except Exception:  # noqa: BLE001 - any unreadable text simply is not the same scalar
        return False


def _clean_loc(loc: tuple[Any, ...], data: Any, err_type: str) -> Loc:
    """Pydantic's loc -> the path in the data: drop the method tag and union member names."""
    out: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if i == 1 and loc[0] == "method" and isinstance(node, dict) and node.get("name") == part:
            continue  # the discriminator's tag, not a key of the data
        if isinstance(node, dict):
            if part in node:
                out.append(part)
                node = node[part]
            elif last and err_type in ("missing", "extra_forbidden"):
                out.append(part)
        elif isinstance(node, list) and isinstance(part, int):
            out.append(part)
            node = node[part] if 0 <= part < len(node) else None
    return tuple(out)


def _error_rows(errors: list[Any], data: Any, locator: _Locator) -> list[_Row]:
    rows: list[_Row] = []
    groups: dict[Loc, list[Any]] = {}
    for err in errors:
        if not err["loc"] and err["type"] in ("value_error", "assertion_error"):
            rows.extend(_cross_rows(err["msg"], data, locator))
            continue
        groups.setdefault(_clean_loc(err["loc"], data, err["type"]), []).append(err)
    for loc, errs in groups.items():
        where_loc, message, at_key = _message(loc, errs, data)
        rows.append(dataclasses.replace(locator.row(where_loc, message, key=at_key), kind="field"))
    return rows


def _cross_rows(msg: str, data: Any, locator: _Locator) -> list[_Row]:
    """Spec's cross-field messages start with a dotted path: point each at that key."""
    rows = []
    for line in _strip_prefix(msg).split("\n"):
        m = _CROSS.match(line)
        if m:
            rows.append(locator.row(tuple(m.group(1).split(".")), m.group(2)))
        elif line.strip():
            rows.append(locator.row((), line))
    return [dataclasses.replace(r, kind="cross") for r in rows]


def _strip_prefix(msg: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            return msg[len(prefix) :]
    return msg


def _message(loc: Loc, errs: list[Any], data: Any) -> tuple[Loc, str, bool]:
    """(where to point, message, point at the key rather than the value)."""
    if len(errs) > 1:  # one value failed every member of a union
        msgs = list(dict.fromkeys(_strip_prefix(e["msg"]) for e in errs))
        head = "Input should be "
        if all(m.startswith(head) for m in msgs):
            text = head + " or ".join(m[len(head) :] for m in msgs)
        else:
            text = "; ".join(msgs)
        value = errs[0].get("input")
        return loc, text + ("" if isinstance(value, dict | list) else _got(value)), False
    err = errs[0]
    kind, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    if kind == "extra_forbidden":
        return loc, _unknown_key(loc, _fields_at(loc[:-1], data), data), True
    if kind == "missing":
        fields = _fields_at(loc[:-1], data) or {}
        info = fields.get(str(loc[-1]))
        desc = f": {info.description}" if info is not None and info.description else ""
        return loc, f"missing required key {loc[-1]!r}{desc}", False
    if kind == "literal_error":
        return loc, _bad_choice(value, re.findall(r"'([^']*)'", str(ctx.get("expected", "")))), False
    if kind == "union_tag_invalid":
        names = list(_method_classes())
        return (*loc, "name"), _bad_choice(ctx.get("tag"), names, what="method"), False
    if kind == "union_tag_not_found":
        return loc, f"missing 'name': the method, one of {', '.join(_method_classes())}", False
    if kind in ("model_attributes_type", "model_type", "dict_type"):
        hint = (
            f"; write {loc[-1]}: {{name: {value}}}"
            if loc == ("method",) and isinstance(value, str) and value in _method_classes()
            else ""
        )
        return loc, f"must be a mapping (key: value){_got(value)}{hint}", False
    if kind == "string_pattern_mismatch" and loc == ("name",):
        rule = "a run name starts with a letter or digit and holds only letters, digits, '.', '_' and '-'"
        return loc, f"{value!r}: {rule}", False
    if kind == "string_type" and _is_number_like(value):
        return loc, f"Input should be a valid string (got {value!r}; quote it: '{value}')", False
    message = _strip_prefix(err["msg"])
    return loc, message + ("" if kind in ("value_error", "assertion_error") else _got(value)), False


def _got(value: Any) -> str:
    if isinstance(value, dict | list):
        return f" (got a {_kind(value)})"
    text = repr(value)
    return f" (got {text[:60] + '...' if len(text) > 60 else text})"


def _unknown_key(loc: Loc, fields: Mapping[str, FieldInfo] | None, data: Any) -> str:
    key = loc[-1]
    if not fields:
        return f"unknown key {key!r}"
    names = list(fields)
    close = difflib.get_close_matches(str(key), names, n=1, cutoff=0.6)
    if close:
        return f"unknown key {key!r} — did you mean {close[0]!r}?"
    if len(loc) == 2 and loc[0] == "method":
        owners = [n for n, cls in _method_classes().items() if key in cls.model_fields]
        if owners:
            current = _get(data, ("method", "name"))
            return (
                f"unknown key {key!r} for method {current}: it is a key of method {', '.join(owners)} "
                f"(allowed here: {', '.join(names)})"
            )
    homes = [h for h in _field_homes().get(str(key), []) if h != _dotted(loc)]
    if homes:
        return f"unknown key {key!r} here — it belongs in {' or '.join(homes[:3])}"
    return f"unknown key {key!r}; allowed: {', '.join(names)}"


def _bad_choice(value: Any, allowed: list[str], what: str = "value") -> str:
    close = difflib.get_close_matches(str(value), allowed, n=1, cutoff=0.5)
    hint = f" — did you mean {close[0]!r}?" if close else ""
    return f"unknown {what} {value!r}{hint} (allowed: {', '.join(allowed)})"


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _dedupe(rows: list[_Row]) -> list[_Row]:
    """Sort by position; drop validation rows below a location that already has a problem upstream."""
    upstream = [r.loc for r in rows if r.kind == "read" and r.loc]
    first: dict[str, _Row] = {}
    for row in rows:
        if row.kind in ("field", "cross") and any(row.loc[: len(u)] == u for u in upstream):
            continue
        first.setdefault(row.render(), row)
    return sorted(first.values(), key=lambda r: r.order)


# ------------------------------------------------------------------------ sections and fields


def _section_models(annotation: Any) -> list[type[BaseModel]]:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _section_models(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return [m for a in get_args(annotation) for m in _section_models(a)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return []


_METHODS: dict[str, type[BaseModel]] = {}


def _method_classes() -> dict[str, type[BaseModel]]:
    """{method name: its section model}, read off the discriminated union."""
    if not _METHODS:
        for cls in _section_models(Spec.model_fields["method"].annotation):
            _METHODS[get_args(cls.model_fields["name"].annotation)[0]] = cls
    return _METHODS


def _fields_at(parent: Loc, data: Any, any_method: bool = False) -> dict[str, FieldInfo] | None:
    """The fields of the section at `parent` (the method variant chosen by the data's method.name)."""
    fields: dict[str, FieldInfo] = dict(Spec.model_fields)
    node = data
    for part in parent:
        info = fields.get(str(part)) if isinstance(part, str) else None
        if info is None:
            return None
        node = node.get(part) if isinstance(node, dict) else None
        models = _section_models(info.annotation)
        if len(models) > 1:
            name = node.get("name") if isinstance(node, dict) else None
            chosen = _method_classes().get(name) if isinstance(name, str) else None
            if chosen is not None and not any_method:
                models = [chosen]
            elif not any_method:
                return None
        if not models:
            return None
        fields = {}
        for m in models:
            fields.update(m.model_fields)
    return fields


_HOMES: dict[str, list[str]] = {}


def _field_homes() -> dict[str, list[str]]:
    """{field name: the dotted sections that have it}, for "it belongs in train" hints."""
    if _HOMES:
        return _HOMES

    def walk(model: type[BaseModel], prefix: str, seen: set[type[BaseModel]]) -> None:
        for name, info in model.model_fields.items():
            path = f"{prefix}.{name}" if prefix else name
            if path not in _HOMES.setdefault(name, []):
                _HOMES[name].append(path)
            for sub in _section_models(info.annotation):
                if sub not in seen:
                    walk(sub, path, seen | {sub})

    walk(Spec, "", {Spec})
    return _HOMES


# -------------------------------------------------------------------------------------- sweep


def _retype_sweep_items(data: dict[str, Any], locator: _Locator) -> None:
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
            if not _is_number_like(item):
                continue
            trial = {k: v for k, v in data.items() if k != "sweep"}
            trial = copy.deepcopy(trial)
            try:
                set_path(trial, path, item)
                Spec.model_validate(trial)
            except ValueError as exc:  # ValidationError is a ValueError
                errors = exc.errors(include_url=False) if isinstance(exc, ValidationError) else []
                if any(e["type"] == "string_type" and _clean_loc(e["loc"], trial, e["type"]) == path for e in errors):
                    text = locator.raw(("sweep", key, i))
                    if text is not None and _same_scalar(text, item):
                        values[i] = text


def _check_sweep(data: dict[str, Any], spec: Spec | None, locator: _Locator) -> list[_Row]:
    """Sweep keys must be paths of the spec; with a valid base spec every combination must validate."""
    sweep = data.get("sweep")
    if not isinstance(sweep, dict) or not sweep:
        return []
    rows: list[_Row] = []
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
        scratch = _Locator([_Doc("sweep", (), 0)])
        for r in _error_rows(errors, trial, scratch):
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
            detail = f"{_dotted(r.loc)}: {r.message}" if r.loc else r.message
            rows.append(locator.row(target, f"with {label}: {detail}"))
    return rows


def _unknown_path(path: tuple[str, ...], data: Any) -> str | None:
    for i, part in enumerate(path):
        fields = _fields_at(path[:i], data, any_method=True)
        if fields is None:
            return None if i > 0 else f"unknown key path {'.'.join(path)!r}"
        if part not in fields:
            close = difflib.get_close_matches(part, list(fields), n=1, cutoff=0.6)
            hint = f" — did you mean {'.'.join((*path[:i], close[0]))!r}?" if close else ""
            return f"unknown key path {'.'.join(path)!r}{hint}"
    return None
