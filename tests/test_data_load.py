"""Spec -> splits: dispatch, limits, scheme checks, repairs, label checks, unseen types, target domain."""

from __future__ import annotations

import logging
import sys
import types
from pathlib import Path

import pytest

from seqlab_spec.data.load import load_splits, load_target_splits
from seqlab_spec.data.types import Sentence
from seqlab_spec.errors import DataError
from seqlab_spec.spec import Spec


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def spec(**data) -> Spec:
    task = data.pop("task", {})
    return Spec(name="t", task=task, data=data)


TRAIN = "EU B-ORG\nrejects O\n\nPeter B-PER\nBlackburn I-PER\n\nLondon B-LOC\n"
DEV = "Paris B-LOC\n\nthe O\nUN B-ORG\n"


def warnings_of(caplog) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == "seqlab_spec" and r.levelno == logging.WARNING
    ]


def test_conll_splits_with_limit(tmp_path, caplog):
    s = spec(train=write(tmp_path / "tr.txt", TRAIN), dev=write(tmp_path / "dv.txt", DEV), limit={"train": 2})
    with caplog.at_level(logging.WARNING, logger="seqlab_spec"):
        out = load_splits(s)
    assert list(out) == ["train", "dev"]
    assert [(x.tokens, x.tags) for x in out["train"]] == [
        (["EU", "rejects"], ["B-ORG", "O"]),
        (["Peter", "Blackburn"], ["B-PER", "I-PER"]),
    ]
    assert [x.tags for x in out["dev"]] == [["B-LOC"], ["O", "B-ORG"]]
    # LOC is only in the third train sentence, cut by the limit: dev's LOC is unseen, and kept
    assert warnings_of(caplog) == [
        "data.dev: 1 gold span(s) of types never seen in train (LOC: 1); kept: they count as misses"
    ]


def test_repairs_are_logged_with_first_location(tmp_path, caplog):
    p = write(tmp_path / "r.txt", "a O\nb I-PER\nc I-PER\n\nd B-LOC\ne I-PER\n\nf B-ORG\n\ng B-PER\n")
    with caplog.at_level(logging.WARNING, logger="seqlab_spec"):
        out = load_splits(spec(train=p))
    assert [x.tags for x in out["train"]] == [
        ["O", "B-PER", "I-PER"],
        ["B-LOC", "B-PER"],
        ["B-ORG"],
        ["B-PER"],
    ]
    assert warnings_of(caplog) == [
        f"{p}: 2 tag(s) break task.scheme bio (first at {p}:2: 'I-PER'); read as seqeval reads them: "
        "a tag that continues no span starts one"
    ]


def test_iob1_file_declared_bio_gets_one_hint(tmp_path, caplog):
    p = write(tmp_path / "iob1.txt", "a I-PER\nb I-PER\nc B-PER\nd O\ne I-LOC\n")
    with caplog.at_level(logging.WARNING, logger="seqlab_spec"):
        out = load_splits(spec(train=p))
    assert out["train"][0].tags == ["B-PER", "I-PER", "B-PER", "O", "B-LOC"]
    assert warnings_of(caplog) == [
        f"{p}: 2 tag(s) break task.scheme bio (first at {p}:1: 'I-PER'); read as seqeval reads them: "
        "a tag that continues no span starts one; the file looks like IOB1: set task.scheme: iob1"
    ]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="seqlab_spec"):
        out = load_splits(spec(train=p, task={"scheme": "iob1"}))
    assert out["train"][0].tags == ["B-PER", "I-PER", "B-PER", "O", "B-LOC"]
    assert warnings_of(caplog) == []


def test_bio_file_declared_iob1_warns(tmp_path, caplog):
    p = write(tmp_path / "bio.txt", TRAIN)
    with caplog.at_level(logging.WARNING, logger="seqlab_spec"):
        load_splits(spec(train=p, task={"scheme": "iob1"}))
    assert warnings_of(caplog) == [
        f"{p}: task.scheme is iob1 but the file looks like BIO (spans open with B-); spans read the same, "
        "but outputs are written in task.scheme: set task.scheme: bio"
    ]


def test_scheme_declared_vs_found(tmp_path):
    iobes = write(tmp_path / "iobes.txt", "New B-LOC\nYork E-LOC\nis O\nUN S-ORG\n")
    with pytest.raises(DataError) as e:
        load_splits(spec(train=iobes))
    assert str(e.value) == (
        f"{iobes}:2: tag 'E-LOC' has an E-/S- prefix (IOBES) but task.scheme is bio; set task.scheme: iobes"
    )
    out = load_splits(spec(train=iobes, task={"scheme": "iobes"}))
    assert out["train"][0].tags == ["B-LOC", "I-LOC", "O", "B-ORG"]
    bio = write(tmp_path / "bio.txt", TRAIN)
    with pytest.raises(DataError) as e:
        load_splits(spec(train=bio, task={"scheme": "iobes"}))
    assert (
        str(e.value) == f"{bio}: task.scheme is iobes but no E-/S- tag occurs; the file looks like BIO: "
        "set task.scheme: bio"
    )


def test_bad_tag_names_file_line(tmp_path):
    p = write(tmp_path / "bad.txt", "a O\n\nb O\nc PER\n")
    with pytest.raises(DataError) as e:
        load_splits(spec(train=p))
    assert str(e.value) == (
        f"{p}:4: tag 'PER' is not a bio tag (expected O, B-TYPE, I-TYPE); fix the line or set task.scheme"
    )


def test_task_labels_outside_is_an_error(tmp_path):
    p = write(tmp_path / "tr.txt", TRAIN)
    with pytest.raises(DataError) as e:
        load_splits(spec(train=p, task={"labels": ["PER", "LOC"]}))
    assert str(e.value) == (
        f"{p}:1: span type(s) not in task.labels [PER, LOC]: ORG (1) in {p}; "
        "add them to task.labels or fix the data"
    )
    assert len(load_splits(spec(train=p, task={"labels": ["PER", "LOC", "ORG", "MISC"]}))["train"]) == 3


def test_missing_file_names_the_spec_key(tmp_path):
    s = spec(train=write(tmp_path / "tr.txt", TRAIN), dev=str(tmp_path / "nope.txt"))
    with pytest.raises(DataError) as e:
        load_splits(s)
    assert str(e.value) == f"{tmp_path / 'nope.txt'}: file not found; fix data.dev in the spec"


def test_no_split_set():
    with pytest.raises(DataError, match=r"^data: no split to read; set data.train / data.dev / data.test$"):
        load_splits(spec())


def test_jsonl_format(tmp_path):
    p = write(tmp_path / "a.jsonl", '{"tokens": ["x", "y"], "tags": ["B-A", "I-A"]}\n')
    out = load_splits(spec(format="jsonl", test=p))
    assert list(out) == ["test"] and out["test"][0].tags == ["B-A", "I-A"]


def test_hf_format_from_saved_dataset(tmp_path):
    import datasets

    feats = datasets.Features(
        {
            "tokens": datasets.Sequence(datasets.Value("string")),
            "ner_tags": datasets.Sequence(datasets.ClassLabel(names=["O", "B-PER", "I-PER"])),
        }
    )
    d = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict(
                {"tokens": [["Ana", "Ban"]], "ner_tags": [[1, 2]]}, features=feats
            ),
            "validation": datasets.Dataset.from_dict({"tokens": [["x"]], "ner_tags": [[0]]}, features=feats),
        }
    )
    d.save_to_disk(str(tmp_path / "ds"))
    hf = {"name": str(tmp_path / "ds"), "splits": {"train": "train", "dev": "validation"}}
    out = load_splits(spec(format="hf", hf=hf))
    assert [(x.tokens, x.tags) for x in out["train"]] == [(["Ana", "Ban"], ["B-PER", "I-PER"])]
    assert out["dev"][0].tags == ["O"]
    with pytest.raises(
        DataError, match=r"^data.hf.splits: unknown key\(s\) validation; keys are train, dev, test"
    ):
        load_splits(
            spec(format="hf", hf={"name": str(tmp_path / "ds"), "splits": {"validation": "validation"}})
        )
    with pytest.raises(DataError, match=r"^data.hf: format hf needs data.hf"):
        load_splits(spec(format="hf"))


@pytest.fixture
def fake_events(monkeypatch):
    """Stand-in for seqlab_spec.data.events (another module's job): records which reader was called."""
    calls: list[tuple[str, Path, str, str]] = []
    mod = types.ModuleType("seqlab_spec.data.events")

    def reader(kind):
        def read(path, label="event", encoding="utf-8", *, key=None):
            calls.append((kind, Path(path), encoding, key))
            if Path(path).name == "empty.json":
                return [Sentence([], [], {"file": str(path), "line": 3})]
            return [Sentence(["He", "attacked"], ["O", "B-Attack"], {"file": str(path), "line": 1})]

        return read

    mod.read_ace, mod.read_maven = reader("ace"), reader("maven")
    mod.missing_file_message = lambda fmt, path, key: f"{path}: file not found; fix {key} in the spec"
    monkeypatch.setitem(sys.modules, "seqlab_spec.data.events", mod)
    return calls


def test_event_formats_dispatch_lazily(tmp_path, fake_events):
    p = write(tmp_path / "ace.json", "[]")
    out = load_splits(spec(format="ace", train=p, task={"type": "trigger"}))
    assert out["train"][0].tags == ["O", "B-Attack"]
    load_splits(spec(format="maven", dev=p, task={"type": "trigger"}, encoding="latin-1"))
    assert fake_events == [("ace", Path(p), "utf-8", "data.train"), ("maven", Path(p), "latin-1", "data.dev")]
    with pytest.raises(DataError, match=r"fix data.test in the spec$"):
        load_splits(spec(format="maven", test=str(tmp_path / "missing.jsonl")))
    empty = write(tmp_path / "empty.json", "[]")
    with pytest.raises(DataError) as e:
        load_splits(spec(format="ace", train=empty))
    assert str(e.value) == f"{empty}:3: empty sentence (no tokens); remove it from the file"


def test_target_splits_inherit_format_and_columns(tmp_path, caplog):
    src = write(tmp_path / "src.tsv", "a\tX\tB-EVENT\n")
    tgt_dev = write(tmp_path / "tgt_dev.tsv", "b\tY\tO\nc\tY\tB-EVENT\n\nd\tZ\tB-EVENT\n")
    tgt_test = write(tmp_path / "tgt_test.tsv", "e\tY\tB-EVENT\n")
    s = spec(
        train=src,
        columns={"separator": "tab", "label": 2},
        target={"dev": tgt_dev, "test": tgt_test, "limit": {"dev": 1}},
        task={"type": "trigger"},
    )
    out = load_target_splits(s)
    assert list(out) == ["dev", "test"]
    assert [(x.tokens, x.tags) for x in out["dev"]] == [(["b", "c"], ["O", "B-EVENT"])]
    assert out["test"][0].tags == ["B-EVENT"]
    s2 = spec(
        train=src,
        target={"format": "jsonl", "test": write(tmp_path / "t.jsonl", '{"tokens":["q"],"tags":["O"]}')},
    )
    assert load_target_splits(s2)["test"][0].tokens == ["q"]
    with pytest.raises(DataError, match=r"^data.target: not set"):
        load_target_splits(spec(train=src))
    with pytest.raises(DataError) as e:
        load_target_splits(spec(train=src, target={"test": str(tmp_path / "gone.tsv")}))
    assert str(e.value) == f"{tmp_path / 'gone.tsv'}: file not found; fix data.target.test in the spec"


def test_bundled_wnut_through_pkg_paths(caplog):
    s = spec(
        train="pkg:wnut17/wnut17train.conll",
        dev="pkg:wnut17/emerging.dev.conll",
        test="pkg:wnut17/emerging.test.annotated",
        columns={"separator": "tab"},
        limit={"train": 50},
        task={"labels": ["corporation", "creative-work", "group", "location", "person", "product"]},
    )
    with caplog.at_level(logging.WARNING, logger="seqlab_spec"):
        out = load_splits(s)
    assert [len(out[k]) for k in ("train", "dev", "test")] == [50, 1009, 1287]
    assert out["train"][0].tokens[:3] == ["@paulwalk", "It", "'s"]
    assert warnings_of(caplog) == []  # the bundled data is clean BIO and 50 sentences hold every type
