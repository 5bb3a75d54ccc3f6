"""The spec loader: exact file:line rows for bad specs, interpolation, paths, overrides, params, sweeps."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqlab_spec.errors import SpecError
from seqlab_spec.spec import Spec
from seqlab_spec.spec.load import load_spec, load_spec_text, spec_from_params
from seqlab_spec.spec.reader import interpolate

ROOT = Path(__file__).resolve().parents[1]
FIX = Path(__file__).resolve().parent / "fixtures" / "specs"
PKG_DATASETS = ROOT / "seqlab_spec" / "datasets"
NOT_SET = (
    "${SEQLAB_TEST_NEVER_SET} is not set: export SEQLAB_TEST_NEVER_SET=... or write ${SEQLAB_TEST_NEVER_SET:-default}"
)
ALIAS_HELP = (
    "(built-in aliases: minilm-l6, smollm2-135m; a hub model is owner/name such as "
    "google-bert/bert-base-cased, a local model a path to an existing folder)"
)
PATTERN_01A0 = "pattern '01a0' must be a string of 0 and 1 (e.g. '0110'), or 'all'"

# fixture -> the exact rows (after the file name) its SpecError must hold, in order
BAD = {
    "bad_unknown_key.yaml": [":4:3  task.schme  unknown key 'schme' — did you mean 'scheme'?"],
    "bad_literal.yaml": [
        ":3:14  train.precision  unknown value 'bf61' — did you mean 'bf16'? (allowed: auto, fp32, bf16, fp16)"
    ],
    "bad_type.yaml": [
        ":3:11  train.epochs  Input should be a valid number, unable to parse string as a number (got 'three')",
        ":4:15  train.batch_size  Input should be a valid integer (got a list)",
    ],
    "bad_pattern.yaml": [f":5:11  method.unmask  {PATTERN_01A0}"],
    "bad_lr.yaml": [":3:7  train.lr  Input should be greater than 0 (got 0)"],
    "bad_unmask_encoder.yaml": [
        ":3:9  model.name  'minilm-l6' is an encoder, but method 'unmask' needs a decoder LLM; "
        "use smollm2-135m or a causal LM hub id/path"
    ],
    "bad_src_without_sift.yaml": [
        ":4:13  loss.strategy  'src' is a response loss of method sift; method 'encoder' uses token-ce "
        "(or leave loss.strategy: auto)"
    ],
    "bad_oie_ner.yaml": [
        ":5:9  signal.name  oie couples relation tags with event triggers; task.type is 'ner': "
        "set task.type: trigger or signal.name: none"
    ],
    "bad_unset_var.yaml": [f":3:10  data.train  {NOT_SET}"],
    "bad_syntax.yaml": [":3:5  (yaml)  expected ',' or '}', but got ':' (while parsing a flow mapping at line 2)"],
    "bad_alias.yaml": [f":3:9  model.name  unknown model alias 'minilm' — did you mean 'minilm-l6'? {ALIAS_HELP}"],
    "bad_method_name.yaml": [
        ":3:9  method.name  unknown method 'unmsk' — did you mean 'unmask'? "
        "(allowed: encoder, unmask, sift, oie-multitask)"
    ],
    "bad_many.yaml": [
        ":2:7  name  'bad many': a run name starts with a letter or digit and holds only letters, digits, "
        "'.', '_' and '-'",
        ":3:19  task.schme  unknown key 'schme' — did you mean 'scheme'?",
        ":5:11  data.format  unknown value 'conl' — did you mean 'conll'? (allowed: conll, jsonl, hf, ace, maven)",
        f":6:10  data.train  {NOT_SET}",
        f":8:32  method.unmask  {PATTERN_01A0}",
        ":10:7  train.lr  Input should be greater than 0 (got -1)",
        ":12:9  train.seed  Input should be a valid integer, unable to parse string as an integer (got 'forty-two')",
        ":13:1  evaluate  unknown key 'evaluate' — did you mean 'eval'?",
    ],
}


def _rows(text: str, overrides: tuple[str, ...] = (), **kw) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_spec_text(text, "s.yaml", overrides, env=kw.pop("env", {}), **kw)
    return info.value.rows


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_spec_rows(name: str) -> None:
    path = FIX / name
    with pytest.raises(SpecError) as info:
        load_spec(path, env={})
    assert info.value.rows == [f"{path}{row}" for row in BAD[name]]
    assert info.value.source == str(path)
    n = len(BAD[name])
    assert str(info.value).startswith(f"{path}: {n} error{'s' if n > 1 else ''} in the spec\n")


def test_every_bad_fixture_has_expected_rows() -> None:
    assert sorted(p.name for p in FIX.glob("bad_*.yaml")) == sorted(BAD)


def test_minimal_spec_and_defaults() -> None:
    spec = load_spec_text("name: demo\n", env={})
    assert spec == Spec(name="demo")
    assert spec.method.name == "encoder" and spec.model.name == "minilm-l6" and spec.loss_strategy == "token-ce"


def test_root_must_be_a_mapping() -> None:
    head = "s.yaml:1:1  -  the spec must be a mapping of sections (name:, task:, data:, ...), got"
    assert _rows("") == [f"{head} nothing"]
    assert _rows("- a\n- b\n") == [f"{head} a list"]


def test_missing_name_points_at_the_top() -> None:
    assert _rows("task: {type: ner}\n") == [
        "s.yaml:1:1  name  missing required key 'name': Run name (used in the run folder)."
    ]


def test_method_shapes() -> None:
    assert _rows("name: x\nmethod: unmask\n") == [
        "s.yaml:2:9  method  must be a mapping (key: value) (got 'unmask'); write method: {name: unmask}"
    ]
    assert _rows("name: x\nmethod: {unmask: '0110'}\n") == [
        "s.yaml:2:9  method  missing 'name': the method, one of encoder, unmask, sift, oie-multitask"
    ]
    assert _rows("name: x\nmodel: {name: smollm2-135m}\nmethod: {name: unmask, k: 3}\n") == [
        "s.yaml:3:24  method.k  unknown key 'k' for method unmask: it is a key of method sift, oie-multitask "
        "(allowed here: name, unmask, groups, head_dropout)"
    ]


def test_key_of_another_section_says_where_it_belongs() -> None:
    assert _rows("name: x\nmodel: {lr: 3}\n") == [
        "s.yaml:2:9  model.lr  unknown key 'lr' here — it belongs in train.lr"
    ]


def test_union_errors_merge_into_one_row() -> None:
    assert _rows("name: x\nmodel: {peft: {target_modules: 7}}\n") == [
        "s.yaml:2:32  model.peft.target_modules  Input should be 'all-linear' or a valid list (got 7)"
    ]


def test_all_cross_field_problems_at_once() -> None:
    text = "name: x\nmodel: {name: minilm-l6}\nmethod: {name: unmask}\nloss: {strategy: src}\nsignal: {name: oie}\n"
    assert [r.split("  ")[:2] for r in _rows(text)] == [
        ["s.yaml:2:15", "model.name"],
        ["s.yaml:4:18", "loss.strategy"],
        ["s.yaml:5:16", "signal.name"],
    ]


OIE = "name: x\ntask: {type: trigger}\ndata: {train: a.tsv, target: {test: b.tsv}}\nmethod: {name: oie-multitask, "


def test_oie_multitask_rules_are_the_spec_s() -> None:
    """What pipelines/oie.py used to check at run time, now reported by `validate` at its key."""
    text = (
        "name: x\ntask: {type: trigger}\ndata:\n  train: a.tsv\n  few_shot: {k: 2}\nmethod:\n  name: oie-multitask\n"
        "  injection: none\n  regime: few-shot\n  k: [0, 3]\n  mlm: true\n  base: unmask\nmodel: {name: smollm2-135m}\n"
    )
    assert _rows(text) == [
        "s.yaml:4:3  data.target  method.regime 'few-shot' needs the target domain (data.target.test)",
        "s.yaml:5:13  data.few_shot  samples the source split of method encoder; oie-multitask draws its k target "
        "sentences itself: set method.regime: few-shot (or joint) and method.k, and remove data.few_shot",
        "s.yaml:10:6  method.k  0 target sentences; k must be at least 1",
        "s.yaml:11:8  method.mlm  the masked-LM pass needs an encoder backbone (method.base: encoder)",
    ]
    assert _rows(OIE + "injection: none, regime: joint, k: []}\n") == [
        "s.yaml:4:66  method.k  an empty list; method.regime 'joint' needs at least one k, e.g. [10]"
    ]
    # the model kind: one rule (MethodSection.model_kind_problem) for aliases here and model folders in the pipeline
    assert _rows(OIE + "injection: none, base: unmask}\n") == [
        "s.yaml:4:54  method.base  unmask needs a decoder LLM, but model.name 'minilm-l6' is an encoder; "
        "use smollm2-135m (or a causal LM), or method.base: encoder"
    ]
    assert _rows(OIE + "injection: none}\n", ("model.name=smollm2-135m",)) == [
        "--set model.name=smollm2-135m  model.name  'smollm2-135m' is a decoder LLM; set method.base: unmask to "
        "tag with it, or use an encoder such as minilm-l6"
    ]


def test_oie_multitask_unmask_pattern_is_checked_like_unmask_s() -> None:
    assert _rows(OIE + "injection: none, base: unmask, unmask: '01a0'}\n", ("model.name=smollm2-135m",)) == [
        "s.yaml:4:70  method.unmask  pattern '01a0' must be a string of 0 and 1 (e.g. '0110')"
    ]
    spec = load_spec_text(OIE + "injection: none, base: unmask, unmask: 0110}\n", "s.yaml", ["model.name=smollm2-135m"])
    assert spec.method.unmask == "0110"  # YAML's number 110 gets its source text back, as for method unmask


def test_yaml_problems_name_the_line() -> None:
    assert _rows("name: x\ntrain:\n\tlr: 1\n") == [
        "s.yaml:3:1  (yaml)  found character '\\t' that cannot start any token; indent with spaces, not tabs"
    ]
    assert _rows("name: x\nname: y\n") == [
        's.yaml:2:1  (yaml)  found duplicate key "name" with value "y" (original value: "x") '
        "(while constructing a mapping at line 1)"
    ]
    assert _rows("name: !foo x\n") == ["s.yaml:1:7  name  YAML tag !foo is not supported here; remove it"]


def test_numbers_written_where_text_is_expected_keep_their_text() -> None:
    text = "name: 2024-01-01\nmodel: {name: smollm2-135m}\nmethod: {name: unmask, unmask: 0110}\n"
    spec = load_spec_text(text, env={})
    assert spec.name == "2024-01-01" and spec.method.unmask == "0110"
    spec = load_spec_text("name: x\nmodel: {name: smollm2-135m}\nmethod: {name: unmask, unmask: [0000, 0110]}\n")
    assert spec.method.unmask == ["0000", "0110"]


# ------------------------------------------------------------------------------ interpolation


def test_interpolate_rules() -> None:
    env = {"A": "alpha", "EMPTY": ""}
    assert interpolate("${A}/x", env) == ("alpha/x", [], True)
    assert interpolate("x/${A}", env) == ("x/alpha", [], False)
    assert interpolate("${B:-beta}/${A:-no}", env) == ("beta/alpha", [], False)
    assert interpolate("${EMPTY:-d}|${EMPTY}|", env) == ("d||", [], False)
    assert interpolate("$${A} and $A", env) == ("${A} and $A", [], False)
    assert interpolate("${B}", env)[1] == ["${B} is not set: export B=... or write ${B:-default}"]
    assert interpolate("${1x}", env)[1] == ["'${1x}' is not ${VAR} or ${VAR:-default}"]
    assert interpolate("a${A", env)[1] == ["unclosed '${' (write $${ for a literal ${)"]


def test_interpolation_in_any_string_value() -> None:
    text = "name: ${RUN:-demo}\ntrain: {epochs: '${EPOCHS:-2}'}\ndescription: ${WHO} ran it\n"
    spec = load_spec_text(text, env={"WHO": "ana"})
    assert (spec.name, spec.train.epochs, spec.description) == ("demo", 2.0, "ana ran it")


def test_unset_variable_row_replaces_the_type_error_of_that_value() -> None:
    assert _rows("name: x\ntrain: {epochs: '${EPOCHS}'}\n") == [
        "s.yaml:2:17  train.epochs  ${EPOCHS} is not set: export EPOCHS=... or write ${EPOCHS:-default}"
    ]


def test_seqlab_data_has_no_default_folder_and_says_how_to_set_it(tmp_path: Path, monkeypatch) -> None:
    """A clone has no data folder beside it: unset SEQLAB_DATA is an error, whatever folders exist nearby."""
    (tmp_path / "shared" / "data").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    text = "name: x\ndata: {train: '${SEQLAB_DATA}/wnut17/train.txt'}\n"
    assert _rows(text) == [
        "s.yaml:2:15  data.train  ${SEQLAB_DATA} is not set: this spec reads corpora that are not redistributed; "
        "export SEQLAB_DATA=/path/to/your/copies (the folder holding conll2003/, ...)"
    ]
    spec = load_spec_text(text, env={"SEQLAB_DATA": "/elsewhere"})
    assert spec.data.train == "/elsewhere/wnut17/train.txt"


# -------------------------------------------------------------------------------------- paths


def test_data_paths_resolve_against_the_spec_folder(tmp_path: Path) -> None:
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "x.yaml").write_text(
        "name: x\n"
        "data:\n  train: ../data/train.txt\n  dev: /abs/dev.txt\n  test: pkg:wnut17/test.txt\n"
        "  target: {train: t.txt, unlabeled: u.txt}\n"
        "signal: {path: sig.jsonl}\nrun: {out_dir: out}\n"
    )
    spec = load_spec(folder / "x.yaml")
    assert spec.data.train == str(tmp_path / "data" / "train.txt")  # the file need not exist
    assert spec.data.dev == "/abs/dev.txt"
    assert spec.data.test == str(PKG_DATASETS / "wnut17" / "test.txt")
    assert spec.data.target is not None
    assert spec.data.target.train == str(folder / "t.txt")
    assert spec.data.target.unlabeled == str(folder / "u.txt")
    assert spec.signal.path == str(folder / "sig.jsonl")
    assert spec.run.out_dir == "out"


def test_a_local_model_folder_resolves_against_the_spec_folder(tmp_path: Path) -> None:
    """`models/tagger` next to the spec is that folder wherever the CLI runs; aliases and hub ids stay."""
    folder = tmp_path / "specs"
    (folder / "models" / "tagger").mkdir(parents=True)
    (folder / "x.yaml").write_text("name: x\nmodel: {name: models/tagger}\n")
    assert load_spec(folder / "x.yaml").model.name == str(folder / "models" / "tagger")
    (folder / "y.yaml").write_text("name: y\nmodel: {name: ./not-yet-trained}\n")
    assert load_spec(folder / "y.yaml").model.name == str(folder / "not-yet-trained")
    (folder / "z.yaml").write_text("name: z\nmodel: {name: google-bert/bert-base-cased}\n")
    assert load_spec(folder / "z.yaml").model.name == "google-bert/bert-base-cased"
    assert load_spec(folder / "z.yaml", ["model.name=minilm-l6"]).model.name == "minilm-l6"


def test_a_missing_local_model_folder_is_not_taken_for_a_hub_id(tmp_path: Path) -> None:
    from seqlab_spec.errors import ModelError
    from seqlab_spec.models.registry import resolve

    with pytest.raises(ModelError) as err:
        resolve(str(tmp_path / "gone"))
    assert str(err.value) == (
        f"model.name: no model folder at {tmp_path / 'gone'}; point it at a folder saved by save_pretrained"
    )


def test_env_and_override_paths_resolve_against_the_working_dir(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = "name: x\ndata: {train: '${D}/train.txt', dev: '${E:-rel}/dev.txt'}\n"
    spec = load_spec_text(text, base_dir="/specs", overrides=["data.test=here/test.txt"], env={"D": "data"})
    assert spec.data.train == str(tmp_path / "data" / "train.txt")
    assert spec.data.dev == "/specs/rel/dev.txt"  # a default written in the file is the file's
    assert spec.data.test == str(tmp_path / "here" / "test.txt")


def test_bad_pkg_path() -> None:
    assert _rows("name: x\ndata: {train: 'pkg:../secret'}\n") == [
        "s.yaml:2:15  data.train  'pkg:../secret': bundled paths are pkg:NAME/file "
        "(a file under seqlab_spec/datasets/NAME)"
    ]


# ---------------------------------------------------------------------------------- overrides


def test_overrides_are_yaml_values() -> None:
    spec = load_spec_text(
        "name: x\nmodel: {name: smollm2-135m}\nmethod: {name: unmask}\n",
        overrides=[
            "train.epochs=1",
            "method.unmask=[0000,0110]",
            "model.peft={method: lora, r: 8}",
            "train.lr=1e-3",
            "train.lr=2e-3",
        ],
        env={},
    )
    assert spec.train.epochs == 1.0 and spec.train.lr == 2e-3
    assert spec.method.unmask == ["0000", "0110"]
    assert (spec.model.peft.method, spec.model.peft.r) == ("lora", 8)
    spec = load_spec_text(
        "name: x\nmodel: {name: smollm2-135m}\n", overrides=["method.name=unmask", "method.unmask=1111"]
    )
    assert spec.method.unmask == "1111"


def test_override_errors_name_the_override() -> None:
    rows = _rows(
        "name: x\n",
        ("train.lr=-1", "train.lrr=3", "nonsense", "name.x=1", "train.lr=[1", "train..lr=1", "task.type=nre"),
    )
    assert rows == [
        "--set train.lr=-1  train.lr  Input should be greater than 0 (got -1)",
        "--set train.lrr=3  train.lrr  unknown key 'lrr' — did you mean 'lr'?",
        "--set nonsense  -  expected --set a.b=value (e.g. --set train.epochs=1)",
        "--set name.x=1  name.x  name holds 'x', not a section: cannot set name.x",
        "--set train.lr=[1  train.lr  cannot read the value as YAML: expected ',' or ']', but got '<stream end>'",
        "--set train..lr=1  -  'train..lr' is not a dotted key path: each part is a name such as train or lr",
        "--set task.type=nre  task.type  unknown value 'nre' — did you mean 'ner'? "
        "(allowed: ner, chunking, trigger, aspect, pos, other)",
    ]


def test_file_and_override_errors_together() -> None:
    assert _rows("name: x\ntrain: {lr: 0}\n", ("train.epochs=0",)) == [
        "s.yaml:2:13  train.lr  Input should be greater than 0 (got 0)",
        "--set train.epochs=0  train.epochs  Input should be greater than 0 (got 0)",
    ]


# ------------------------------------------------------------------------------------- params


def test_spec_from_params_round_trip() -> None:
    spec = load_spec_text(
        "name: x\nmodel: {name: smollm2-135m}\nmethod: {name: unmask, unmask: '0110'}\nsweep: {train.seed: [1, 2]}\n",
        env={},
    )
    params = json.loads(json.dumps(spec.model_dump(mode="json")))
    assert spec_from_params(params) == spec


def test_spec_from_params_rejects_unknown_keys() -> None:
    with pytest.raises(SpecError) as info:
        spec_from_params({"name": "x", "train": {"lrr": 1}, "bogus": 1})
    assert info.value.rows == [
        "params  train.lrr  unknown key 'lrr' — did you mean 'lr'?",
        "params  bogus  unknown key 'bogus'; allowed: name, description, task, data, model, method, loss, "
        "signal, train, eval, run, sweep",
    ]
    with pytest.raises(SpecError) as info:
        spec_from_params(["name", "x"])  # type: ignore[arg-type]
    assert info.value.rows == ["params  -  expected the spec as a mapping, got list"]


# -------------------------------------------------------------------------------------- sweep


def test_sweep_keys_and_values_are_checked() -> None:
    base = "name: x\nmodel: {name: smollm2-135m}\nmethod: {name: unmask}\n"
    assert _rows(base + "sweep:\n  train.lrr: [1]\n  method.unmask: []\n") == [
        "s.yaml:5:3  sweep.train.lrr  unknown key path 'train.lrr' — did you mean 'train.lr'?",
        "s.yaml:6:18  sweep.method.unmask  an empty list of values: give at least one",
    ]
    assert _rows(base + "sweep:\n  method.unmask: [0000, 01a0]\n  train.lr: [0.1, -1]\n") == [
        f"s.yaml:5:25  sweep.method.unmask[1]  with method.unmask='01a0': method.unmask: {PATTERN_01A0}",
        "s.yaml:6:19  sweep.train.lr[1]  with train.lr=-1: train.lr: Input should be greater than 0 (got -1)",
    ]


def test_sweep_combinations_are_validated_together() -> None:
    text = "name: x\nmodel: {name: smollm2-135m}\nmethod: {name: sift}\nsweep:\n  method.name: [sift, unmask]\n"
    assert load_spec_text(text + "  loss.strategy: [auto]\n").sweep == {
        "method.name": ["sift", "unmask"],
        "loss.strategy": ["auto"],
    }
    assert _rows(text + "  loss.strategy: [src]\n") == [
        "s.yaml:6:19  sweep.loss.strategy[0]  with method.name='unmask', loss.strategy='src': loss.strategy: "
        "'src' is a response loss of method sift; method 'unmask' uses token-ce "
        "(or leave loss.strategy: auto)"
    ]


def test_sweep_numbers_keep_their_text() -> None:
    text = "name: x\nmodel: {name: smollm2-135m}\nmethod: {name: unmask}\nsweep: {method.unmask: [0000, 0110]}\n"
    assert load_spec_text(text).sweep == {"method.unmask": ["0000", "0110"]}


# --------------------------------------------------------------------------------- properties

_KEYS = st.sampled_from(
    ["name", "task", "data", "model", "method", "train", "eval", "sweep", "type", "unmask", "lr", "k", "x"]
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=True),
    st.sampled_from(["ner", "unmask", "sift", "0110", "${V}", "${V:-1}", "pkg:a/b", "${", "minilm-l6", ""]),
    st.text(max_size=8),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_KEYS, inner, max_size=4)),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=80), st.dictionaries(_KEYS, _VALUES, max_size=6).map(json.dumps)))
def test_any_text_gives_a_spec_or_a_spec_error(text: str) -> None:
    try:
        assert isinstance(load_spec_text(text, env={}), Spec)
    except SpecError as exc:
        assert exc.rows and all(isinstance(r, str) and r for r in exc.rows)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=20), max_size=3))
def test_any_override_gives_a_spec_or_a_spec_error(overrides: list[str]) -> None:
    try:
        load_spec_text("name: x\n", overrides=overrides, env={})
    except SpecError as exc:
        assert exc.rows


def test_loader_does_not_touch_the_environment() -> None:
    before = dict(os.environ)
    load_spec_text("name: x\ndata: {train: '${SEQLAB_DATA:-d}/t.txt'}\n")
    assert dict(os.environ) == before


def test_aliases_are_copies_and_alias_bombs_stop() -> None:
    text = "name: x\ndata: {limit: &l {train: 5}, target: {limit: *l}}\n"
    spec = load_spec_text(text, overrides=["data.limit.train=3"], env={})
    assert spec.data.limit.train == 3 and spec.data.target is not None and spec.data.target.limit.train == 5
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(5)
    )
    assert _rows(bomb) == ["s.yaml: YAML aliases expand to more than 100000 values"]
