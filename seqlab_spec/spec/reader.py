"""YAML text -> plain dicts, lists and scalars, keeping where each value was written (file line:col, or the
`--set` that set it): ruamel round-trip parsing, ${VAR} / ${VAR:-default} interpolation, `--set a.b=value`
overrides. Problems are collected as rows (`ReadState.rows`), not raised one by one.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.comments import CommentedSet, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

from ..errors import SpecError
from .locate import Doc, Loc, Row, plain_key, yaml_loader
from .overrides import parse_override, set_path

MAX_VALUES = 100_000  # a spec is small: more than this is an alias bomb, not an experiment

_REF = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_VAR = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$", re.S)
_STD_TAG = "tag:yaml.org,2002:"


@dataclass
class ReadState:
    env: Mapping[str, str]
    rows: list[Row] = field(default_factory=list)
    env_paths: set[Loc] = field(default_factory=set)  # values that start with a ${VAR} from the environment


def parse_yaml(text: str, source: str) -> Any:
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


class Reader:
    """ruamel nodes -> plain dicts, lists and scalars, with ${VAR} interpolated in strings."""

    def __init__(self, doc: Doc, state: ReadState):
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


def apply_overrides(data: dict[str, Any], overrides: Sequence[str], state: ReadState) -> list[Doc]:
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
        value = Reader(doc, state).plain(tree, ())
        try:
            set_path(data, ov.path, value)
        except ValueError as exc:
            state.rows.append(Row(label, ov.path, str(exc), (i, 0, 0)))
            continue
        docs.append(doc)
    return docs
