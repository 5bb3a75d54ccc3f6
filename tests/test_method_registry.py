"""The method registry (seqlab_spec.methods): a method registered from its own module, outside the package, is
validated, swept, checked, run by `seqlab-spec run --no-notebook` and served by `seqlab-spec predict` with no
other file edited. The toy method is a lexicon tagger (each word's most frequent training tag): no model to
train, so the test exercises the wiring, not learning."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from conftest import ROOT

from seqlab_spec import cli, methods
from seqlab_spec.evaluation.scores import span_scores
from seqlab_spec.methods import MethodEntry
from seqlab_spec.spec.load import load_spec

TOY = '''"""A method in one module: its spec section, its run and its predict loader."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Literal

from pydantic import Field

from seqlab_spec.errors import DataError
from seqlab_spec.pipelines.common import eval_splits, prediction_rows, prepare_data, score_split
from seqlab_spec.runner.rundir import write_run
from seqlab_spec.spec.method import MethodSection


class LexiconMethod(MethodSection):
    name: Literal["lexicon"] = Field(description="Tag each word with its most frequent training tag.")
    lowercase: bool = Field(False, description="Look words up lowercased.")


def _key(spec, word):
    return word.lower() if spec.method.lowercase else word


def _tag(spec, lexicon, sentences):
    return [[lexicon.get(_key(spec, w), "O") for w in words] for words in sentences]


def preflight(spec, splits, config):
    if not any(t != "O" for s in splits["train"] for t in s.tags):
        raise DataError("data.train: no labeled word to build a lexicon from")


def run(spec, run_dir):
    t0 = time.time()
    data = prepare_data(spec)
    counts = defaultdict(Counter)
    for s in data.splits["train"]:
        for w, t in zip(s.tokens, s.tags, strict=True):
            counts[_key(spec, w)][t] += 1
    lexicon = {w: c.most_common(1)[0][0] for w, c in counts.items()}
    metrics, rows = {}, []
    for split in eval_splits(spec, data.splits):
        gold = data.splits[split]
        pred = _tag(spec, lexicon, [s.tokens for s in gold])
        metrics[split] = score_split(gold, pred, spec.eval.mode)
        rows += prediction_rows(split, gold, pred, spec.task.scheme, spec.eval.mode)
    save = lambda d: (d / "lexicon.json").write_text(json.dumps(lexicon))  # noqa: E731
    return write_run(spec, run_dir, metrics, rows, [], time.time() - t0, save)


def predict(model_dir, spec, sentences, batch_size=64):
    return _tag(spec, json.loads((Path(model_dir) / "lexicon.json").read_text()), sentences)
'''

SPEC = """name: toy
task: {type: trigger, scheme: bio}
data:
  format: conll
  train: pkg:litbank_events/train.bio.tsv
  dev: pkg:litbank_events/dev.bio.tsv
  test: pkg:litbank_events/test.bio.tsv
  columns: {token: 0, label: 1, separator: tab}
  limit: {train: 3000, dev: 60, test: 60}
model: {name: minilm-l6}
method: {name: lexicon}
eval: {splits: [dev, test]}
sweep: {method.lowercase: [false, true]}
"""


@pytest.fixture
def toy(tmp_path: Path, monkeypatch):
    """The toy module on sys.path and its one registry row; the row is removed afterwards."""
    (tmp_path / "toy_lexicon.py").write_text(TOY)
    monkeypatch.syspath_prepend(str(tmp_path))
    entry = methods.register(MethodEntry("lexicon", section="toy_lexicon:LexiconMethod", pipeline="toy_lexicon"))
    yield entry
    methods.unregister("lexicon")


def _rows(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()]


def test_a_registered_method_runs_through_the_cli_with_nothing_else_edited(toy, tmp_path, capsys) -> None:
    spec_path = tmp_path / "toy.yaml"
    spec_path.write_text(SPEC)
    out = tmp_path / "runs"
    assert cli.main(["validate", str(spec_path)]) == 0
    assert "method lexicon" in capsys.readouterr().out
    assert cli.main(["run", str(spec_path), "--no-notebook", "--out", str(out)]) == 0
    runs = sorted(p for p in out.iterdir() if (p / "metrics.json").exists())
    assert [p.name.rsplit("-", 2)[0] for p in runs] == ["toy.lowercase-False", "toy.lowercase-True"]
    (report,) = out.glob("toy-sweep-*/report.md")  # a sweep of the toy's own key gets the comparison report
    assert "lowercase-True" in report.read_text()

    # the run is the toy's own: predictions are each word's most frequent training tag, scored by the library
    spec = load_spec(spec_path)
    from seqlab_spec.data.load import load_splits

    splits = load_splits(spec)
    counts: dict[str, Counter] = defaultdict(Counter)
    for s in splits["train"]:
        for w, t in zip(s.tokens, s.tags, strict=True):
            counts[w][t] += 1
    rows = _rows(runs[0])
    test = [r for r in rows if r["split"] == "test"]
    assert [r["tokens"] for r in test] == [s.tokens for s in splits["test"]]
    expected = [[counts[w].most_common(1)[0][0] if w in counts else "O" for w in r["tokens"]] for r in test]
    assert [r["pred"] for r in test] == expected
    metrics = json.loads((runs[0] / "metrics.json").read_text())
    gold = [s.tags for s in splits["test"]]
    assert metrics["test"]["strict"]["micro"] == span_scores(gold, expected, "strict")["micro"]
    assert metrics["test"]["strict"]["micro"]["f1"] > 0  # the lexicon finds some triggers: the rows are not all O
    record = json.loads((runs[0] / "run.json").read_text())
    assert (record["status"], record["notebook"]) == ("complete", False)

    # `seqlab-spec predict` reaches the toy's predict loader through the registry
    from seqlab_spec.evaluation.predict_file import predict_file

    text = "\n".join(json.dumps({"tokens": r["tokens"]}) for r in test[:5])
    predicted = predict_file(runs[0], text, "input.jsonl")
    assert [p["labels"] for p in predicted] == [r["pred"] for r in test[:5]]


def test_the_registry_feeds_the_spec_messages_and_the_runner(toy, tmp_path, capsys) -> None:
    spec_path = tmp_path / "toy.yaml"
    spec_path.write_text(SPEC.replace("method: {name: lexicon}", "method: {name: lexicom}"))
    assert cli.main(["validate", str(spec_path)]) == 1
    assert capsys.readouterr().err == (
        f"error: {spec_path}: 1 error in the spec\n"
        f"  {spec_path}:11:16  method.name  unknown method 'lexicom' — did you mean 'lexicon'? "
        "(allowed: encoder, unmask, sift, oie-multitask, lexicon)\n"
    )
    # no notebook declared: running through one says so, before any run folder
    spec_path.write_text(SPEC)
    out = tmp_path / "runs"
    assert cli.main(["run", str(spec_path), "--out", str(out)]) == 1
    assert "method 'lexicon' has no teaching notebook: run it with --no-notebook" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())


def test_an_unregistered_method_is_an_unknown_name_again(toy, tmp_path, capsys) -> None:
    methods.unregister("lexicon")
    spec_path = tmp_path / "toy.yaml"
    spec_path.write_text(SPEC)
    assert cli.main(["validate", str(spec_path)]) == 1
    assert "unknown method 'lexicon'" in capsys.readouterr().err
    assert methods.names() == ("encoder", "unmask", "sift", "oie-multitask")


def test_a_row_that_does_not_fit_is_refused_and_not_kept(toy) -> None:
    names = methods.names()
    wrong_tag = r"method 'lexicom': its section LexiconMethod must declare name: Literal\['lexicom'\]"
    with pytest.raises(TypeError, match=wrong_tag):
        methods.register(MethodEntry("lexicom", section="toy_lexicon:LexiconMethod", pipeline="toy_lexicon"))
    with pytest.raises(ModuleNotFoundError, match="no_such_module"):
        methods.register(MethodEntry("other", section="no_such_module:Section", pipeline="no_such_module"))
    assert methods.names() == names


def test_every_builtin_row_points_at_its_section_pipeline_and_notebook_source() -> None:
    for name in methods.names():
        entry = methods.get(name)
        assert methods.section(name).model_fields["name"].annotation.__args__ == (name,)
        pipeline = methods.pipeline(name)
        assert callable(pipeline.run) and callable(pipeline.predict)
        assert Path(ROOT / "notebooks" / "src" / Path(entry.notebook).with_suffix(".py").name).is_file()
    with pytest.raises(methods.UnknownMethod, match=r"unknown method 'siff' .* did you mean 'sift'\?"):
        methods.get("siff")


def test_a_launcher_may_register_before_anything_imports_the_spec(tmp_path: Path) -> None:
    """A user's launcher: `methods.register` first, then the CLI. The toy's module imports the pipelines (and so the
    spec package) itself; registering imports it before the row joins, so the spec loads with the rows it knew."""
    (tmp_path / "toy_lexicon.py").write_text(TOY)
    (tmp_path / "toy.yaml").write_text(SPEC)
    launcher = tmp_path / "launch_toy.py"
    launcher.write_text(
        "import sys\n"
        "from seqlab_spec import cli, methods\n"
        "row = methods.MethodEntry('lexicon', section='toy_lexicon:LexiconMethod', pipeline='toy_lexicon')\n"
        "methods.register(row)\n"
        "sys.exit(cli.main(sys.argv[1:]))\n"
    )
    proc = subprocess.run(
        [sys.executable, str(launcher), "validate", str(tmp_path / "toy.yaml")],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
        env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{tmp_path}"},
    )
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr
    assert "method lexicon" in proc.stdout
