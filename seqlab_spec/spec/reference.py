"""The spec's JSON Schema and the markdown reference (docs/spec.md) rendered from it.

docs/spec.md is generated, never edited: `seqlab-spec schema --markdown > docs/spec.md`. A test
compares the file with a fresh rendering, so the reference cannot drift from the models.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, NoDefault
from pydantic_core import core_schema

from .root import Spec

FIX_COMMAND = "seqlab-spec schema --markdown > docs/spec.md"


class _WithFactoryDefaults(GenerateJsonSchema):
    """Also show defaults that come from a default_factory (sections, lists), so every field has one."""

    def get_default_value(self, schema: core_schema.WithDefaultSchema) -> Any:
        factory = schema.get("default_factory")
        if factory is not None and not schema.get("default_factory_takes_data"):
            return factory()  # type: ignore[call-arg]
        return schema.get("default", NoDefault)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a spec (draft 2020-12), defaults included."""
    return Spec.model_json_schema(schema_generator=_WithFactoryDefaults)


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2) + "\n"


INTRO = """\
# Spec reference

<!-- Generated from the pydantic models by `{fix}`; do not edit. -->

A spec is one YAML file that says everything about an experiment. `seqlab-spec validate SPEC`
checks it and prints every problem at once, each as `file:line:col  key.path  message`.

## How a spec is read

- **Unknown keys are errors**, in every section, with a suggestion (`schme` -> did you mean `scheme`?).
  Choices (`precision`, `task.scheme`, `method.name`, ...) list their allowed values.
- **Environment variables**: `${{VAR}}` and `${{VAR:-default}}` are replaced in every string value
  (`:-` as in the shell: the default when VAR is unset or empty; write `$${{` for a literal `${{`).
  An unset VAR without a default is an error that names the line: `export VAR=...`.
  **`SEQLAB_DATA`** names the folder of the corpora that are not redistributed (CoNLL-2003, ...); it has
  no default: a spec that uses it while it is unset is an error that says to export it.
- **Data paths** (`data.train/dev/test`, `data.target.train/dev/test/unlabeled`, `signal.path`):
  a relative path resolves against the spec file's folder; one that starts with `${{VAR}}` taken from
  the environment, or that comes from `--set`, resolves against the working directory.
  `pkg:NAME/file` names a dataset bundled in the package (`seqlab_spec/datasets/NAME/file`).
  Files are not opened while the spec is read: the data readers report missing files.
  `run.out_dir` stays relative to the working directory.
- **Overrides**: `--set a.b=value` (repeatable) sets one key after the file is read; the value is
  YAML (`--set train.epochs=1`, `--set method.unmask=[0000,0110]`, `--set model.peft={{method: lora}}`).
  Overrides are validated like the file; an error names the override (`--set train.lr=-1 ...`).
- **Numbers written where text is expected keep their text**: `unmask: 0110` is the pattern `'0110'`,
  not the number 110 (YAML would read it as a number; the loader gives it back as written).
- **Sweeps**: `sweep: {{dotted.path: [values]}}` makes one run per combination; each key must be a
  field of the spec, and every combination is validated (up to 512 of them).
- In a notebook, `spec_from_params(params)` validates the resolved spec (a plain dict from papermill)
  through the same model: unknown keys are errors there too.

## Sections
"""


def render_markdown(schema: dict[str, Any] | None = None) -> str:
    """docs/spec.md: the loading rules, then one table (field, type, default, description) per section."""
    schema = schema if schema is not None else json_schema()
    defs: dict[str, Any] = schema.get("$defs", {})
    out = [INTRO.format(fix=FIX_COMMAND)]
    rendered: dict[str, str] = {}
    queue: list[tuple[str, dict[str, Any], str, str]] = [("spec (top level)", schema, "", "")]
    while queue:
        title, section, path, about = queue.pop(0)
        out.append(f"### `{title}`\n")
        if about:
            out.append(_cell(about) + "\n")
        out.append("| field | type | default | description |")
        out.append("|---|---|---|---|")
        required = set(section.get("required", []))
        children: list[tuple[str, dict[str, Any], str, str]] = []
        for name, prop in section.get("properties", {}).items():
            field_path = f"{path}.{name}" if path else name
            for ref, label in _section_refs(prop):
                sub_title = field_path if label is None else f"{field_path} (name: {label})"
                if ref in rendered:
                    continue
                rendered[ref] = sub_title
                about = defs[ref].get("description", "") if label else prop.get("description", "")
                children.append((sub_title, defs[ref], field_path, about))
            type_text = _type(prop, defs, field_path, rendered)
            default = "**required**" if name in required else _default(prop)
            out.append(f"| `{name}` | {type_text} | {default} | {_cell(prop.get('description', ''))} |")
        out.append("")
        queue[:0] = children  # depth-first: a section's subsections follow it
    return "\n".join(out).rstrip() + "\n"


def _section_refs(prop: dict[str, Any]) -> list[tuple[str, str | None]]:
    """($defs name, discriminator tag) of the sections a field holds."""
    if "$ref" in prop:
        return [(_ref_name(prop["$ref"]), None)]
    mapping = prop.get("discriminator", {}).get("mapping")
    if mapping:  # in the order the union is written, not the mapping's sorted one
        tags = {ref: tag for tag, ref in mapping.items()}
        return [
            (_ref_name(m["$ref"]), tags[m["$ref"]]) for m in prop.get("oneOf", []) if m.get("$ref") in tags
        ]
    return [(_ref_name(m["$ref"]), None) for m in prop.get("anyOf", []) if "$ref" in m]


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _type(prop: dict[str, Any], defs: dict[str, Any], path: str, rendered: dict[str, str]) -> str:
    if "$ref" in prop:
        return f"section `{rendered.get(_ref_name(prop['$ref']), path)}`"
    if "discriminator" in prop:
        tags = ", ".join(f"`{tag}`" for _, tag in _section_refs(prop))
        return f"section, chosen by `{prop['discriminator']['propertyName']}`: {tags}"
    if "anyOf" in prop:
        members = [m for m in prop["anyOf"] if m.get("type") != "null"]
        text = " or ".join(_type(m, defs, path, rendered) for m in members)
        return text + (" or null" if len(members) < len(prop["anyOf"]) else "")
    if "const" in prop:
        return f"`{prop['const']}`"
    if "enum" in prop:
        return "one of " + ", ".join(f"`{v}`" for v in prop["enum"])
    kind = prop.get("type", "any")
    if kind == "array":
        return f"list of {_type(prop.get('items', {}), defs, path, rendered)}"
    if kind == "object":
        values = prop.get("additionalProperties")
        inner = _type(values, defs, path, rendered) if isinstance(values, dict) else "any"
        return f"mapping of string to {inner}"
    return kind + _bounds(prop)


_BOUNDS = (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("exclusiveMaximum", "<"))


def _bounds(prop: dict[str, Any]) -> str:
    parts = []
    for key, sign in _BOUNDS:
        if key in prop:
            parts.append(f"{sign} {prop[key]}")
    if "pattern" in prop:
        parts.append(f"matching `{prop['pattern']}`")
    return (" " + ", ".join(parts)) if parts else ""


def _default(prop: dict[str, Any]) -> str:
    if "default" not in prop:
        return ""
    value = prop["default"]
    if isinstance(value, dict) and value and _section_refs(prop):
        return "(see section)"
    return f"`{json.dumps(value, ensure_ascii=False)}`".replace("|", "\\|")


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
