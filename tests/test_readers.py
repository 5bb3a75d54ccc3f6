"""Readers: exact sentences and metadata, exact error messages, the bundled data's published counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqlab_spec.data.readers import read_conll, read_hf, read_jsonl, write_conll, write_jsonl
from seqlab_spec.data.schemes import spans
from seqlab_spec.data.types import Sentence
from seqlab_spec.datasets import DATASETS_DIR, resolve
from seqlab_spec.errors import DataError


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


CONLL = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER
"""


def test_read_conll_columns_docstart_and_meta(tmp_path):
    p = write(tmp_path / "a.txt", CONLL)
    sents = read_conll(p)
    assert [(s.tokens, s.tags) for s in sents] == [
        (["EU", "rejects", "German"], ["B-ORG", "O", "B-MISC"]),
        (["Peter", "Blackburn"], ["B-PER", "I-PER"]),
    ]
    assert sents[0].meta == {"file": str(p), "line": 3, "format": "conll"}
    assert sents[1].meta["line"] == 7
    assert sents[1].where(1) == f"{p}:8"
    chunks = read_conll(p, token_col=0, label_col=2)
    assert chunks[0].tags == ["B-NP", "B-VP", "B-NP"]
    assert read_conll(p, token_col=1, label_col=-2)[1].tokens == ["NNP", "NNP"]


def test_read_conll_tab_separator_keeps_spaces_and_whitespace_only_separators(tmp_path):
    # a tab-only line separates sentences (WNUT-17 train has 2394 of them); CRLF and a BOM are tolerated
    text = "\ufeffNew York\tB-LOC\r\nis\tO\r\n\t\r\nok\tO\t\r\n"
    p = write(tmp_path / "b.tsv", text)
    sents = read_conll(p, separator="tab")
    assert [(s.tokens, s.tags) for s in sents] == [(["New York", "is"], ["B-LOC", "O"]), (["ok"], ["O"])]
    assert sents[1].meta["line"] == 4


def test_read_conll_whitespace_keeps_unicode_spaces_inside_tokens(tmp_path):
    p = write(tmp_path / "c.txt", "10\u00a0000 O\nyen  O\n")
    assert read_conll(p)[0].tokens == ["10\u00a0000", "yen"]


def test_read_conll_too_few_columns(tmp_path):
    p = write(tmp_path / "d.txt", "EU B-ORG\nrejects\n")
    with pytest.raises(DataError) as e:
        read_conll(p, label_col=3)
    assert str(e.value) == f"{p}:1: expected at least 4 columns, found 2; fix the line or set data.columns"
    # token 0 and label -1 would both read the one column of "rejects": the tag must not be the word
    with pytest.raises(DataError) as e:
        read_conll(p)
    assert str(e.value) == f"{p}:2: expected at least 2 columns, found 1; fix the line or set data.columns"
    p3 = write(tmp_path / "d3.txt", "EU NNP B-ORG\nrejects O\n")
    with pytest.raises(DataError) as e:
        read_conll(p3, token_col=0, label_col=-2)
    assert str(e.value) == f"{p3}:2: expected at least 3 columns, found 2; fix the line or set data.columns"


def test_read_conll_non_utf8_names_line_and_option(tmp_path):
    p = write(tmp_path / "e.txt", "caf\xe9 O\n".encode() + b"na\xefve O\n")
    with pytest.raises(DataError) as e:
        read_conll(p)
    assert str(e.value) == (
        f"{p}:2: byte 0xef at column 3 is not valid utf-8; set data.encoding to the file's encoding "
        "(e.g. latin-1) or re-save the file as utf-8"
    )
    latin = write(tmp_path / "f.txt", "na\xefve O\n".encode("latin-1"))
    assert read_conll(latin, encoding="latin-1")[0].tokens == ["na\u00efve"]


def test_unknown_encoding(tmp_path):
    p = write(tmp_path / "g.txt", "a O\n")
    with pytest.raises(DataError, match=r"^data.encoding: unknown text encoding 'utf-9'"):
        read_conll(p, encoding="utf-9")


def test_empty_missing_and_folder(tmp_path):
    empty = write(tmp_path / "empty.txt", "\n \n")
    with pytest.raises(DataError) as e:
        read_conll(empty, key="data.dev")
    assert str(e.value) == f"{empty}: the file is empty; fix data.dev in the spec or fill the file"
    only_doc = write(tmp_path / "doc.txt", "-DOCSTART- O\n\n")
    with pytest.raises(DataError) as e:
        read_conll(only_doc)
    assert str(e.value) == f"{only_doc}: no sentences (only blank or -DOCSTART- lines); fix the path"
    missing = tmp_path / "nope.txt"
    with pytest.raises(DataError) as e:
        read_conll(missing, key="data.train")
    assert str(e.value) == f"{missing}: file not found; fix data.train in the spec"
    with pytest.raises(DataError, match="is a folder, not a file; fix data.test in the spec"):
        read_jsonl(tmp_path, key="data.test")


def test_bad_separator(tmp_path):
    p = write(tmp_path / "h.txt", "a O\n")
    with pytest.raises(DataError, match="data.columns.separator: 'comma'"):
        read_conll(p, separator="comma")


def test_read_jsonl_and_errors(tmp_path):
    good = write(
        tmp_path / "a.jsonl",
        '{"tokens": ["a", "b"], "tags": ["B-X", "O"]}\n\n{"tokens": ["c"], "tags": ["O"]}\n',
    )
    sents = read_jsonl(good)
    assert [(s.tokens, s.tags, s.meta["line"]) for s in sents] == [
        (["a", "b"], ["B-X", "O"], 1),
        (["c"], ["O"], 3),
    ]
    trailing_comma = '{"tokens": ["a"], "tags": ["O"]}\n{"tokens": ["a"], "tags": ["O"],}\n'
    cases = {
        trailing_comma: ":2: invalid JSON (Expecting property name enclosed in double quotes at column 33); "
        "fix the line",
        '{"tokens": ["a", "b"], "tags": ["O"]}\n': ":1: 2 tokens but 1 tags; every token needs one tag",
        '{"tokens": ["a"]}\n': ":1: missing field 'tags' (fields found: tokens)",
        '{"tokens": "ab", "tags": ["O"]}\n': ":1: 'tokens' must be a list of strings",
        "[1, 2]\n": ":1: expected an object with 'tokens' and 'tags', found list",
        '{"tokens": [], "tags": []}\n': ":1: empty sentence (no tokens); remove the line",
    }
    for i, (text, msg) in enumerate(cases.items()):
        p = write(tmp_path / f"bad{i}.jsonl", text)
        with pytest.raises(DataError) as e:
            read_jsonl(p)
        assert str(e.value) == f"{p}{msg}"


def test_write_read_round_trip(tmp_path):
    sents = [Sentence(["New York", "rocks"], ["B-LOC", "O"]), Sentence(["\u00e9t\u00e9"], ["B-X"])]
    write_conll(sents, tmp_path / "o.tsv")
    back = read_conll(tmp_path / "o.tsv", separator="tab")
    assert [(s.tokens, s.tags) for s in back] == [(s.tokens, s.tags) for s in sents]
    write_jsonl(sents, tmp_path / "o.jsonl")
    back = read_jsonl(tmp_path / "o.jsonl")
    assert [(s.tokens, s.tags) for s in back] == [(s.tokens, s.tags) for s in sents]


word = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1, max_size=6
).filter(lambda w: not w.startswith("-DOCSTART-") and w.strip() == w)
sentence = st.lists(
    st.tuples(word, st.sampled_from(["O", "B-A", "I-A", "B-creative-work"])), min_size=1, max_size=5
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(sentence, min_size=1, max_size=4), st.sampled_from(["whitespace", "tab"]))
def test_property_conll_round_trip(tmp_path, sents, sep):
    objs = [Sentence([w for w, _ in s], [t for _, t in s]) for s in sents]
    p = tmp_path / "rt.txt"
    write_conll(objs, p, separator="\t" if sep == "tab" else " ")
    back = read_conll(p, separator=sep)
    assert [(s.tokens, s.tags) for s in back] == [(s.tokens, s.tags) for s in objs]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=80), st.sampled_from([(0, -1), (0, 3), (-2, 1)]))
def test_property_arbitrary_bytes_read_or_dataerror(tmp_path, data, cols):
    p = tmp_path / "fuzz.txt"
    p.write_bytes(data)
    for read in (lambda: read_conll(p, *cols), lambda: read_jsonl(p)):
        try:
            sents = read()
        except DataError:
            continue
        assert sents and all(len(s.tokens) == len(s.tags) > 0 for s in sents)


# The bundled CC BY data: published sentence / token / span counts (shared/data/SOURCES.md).
BUNDLED = [
    ("pkg:wnut17/wnut17train.conll", 3394, 62730, 1975),
    ("pkg:wnut17/emerging.dev.conll", 1009, 15733, 836),
    ("pkg:wnut17/emerging.test.annotated", 1287, 23394, 1079),
    ("pkg:litbank_events/train.bio.tsv", 5263, 126182, 4989),
    ("pkg:litbank_events/dev.bio.tsv", 935, 20725, 696),
    ("pkg:litbank_events/test.bio.tsv", 2364, 63625, 2164),
]


@pytest.mark.parametrize(("path", "n_sent", "n_tok", "n_spans"), BUNDLED)
def test_bundled_data_counts(path, n_sent, n_tok, n_spans):
    sents = read_conll(resolve(path), separator="tab")
    assert len(sents) == n_sent
    assert sum(len(s) for s in sents) == n_tok
    assert sum(len(spans(s.tags)) for s in sents) == n_spans


def test_bundled_folders_carry_attribution():
    for folder in ("wnut17", "litbank_events"):
        readme = (DATASETS_DIR / folder / "README.md").read_text(encoding="utf-8")
        assert "CC BY 4.0" in readme and "Citation" in readme and "Changes" in readme
    names = sorted(p.name for p in DATASETS_DIR.rglob("*") if p.is_file() and p.suffix != ".py")
    assert not any("conll2003" in n or "conll2000" in n or "tempeval" in n for n in names)


# Hugging Face datasets, offline: a save_to_disk folder with ClassLabel ids, and a local JSON folder.
class HF:
    def __init__(self, name, tokens_field="tokens", tags_field="ner_tags", config=None):
        self.name, self.tokens_field, self.tags_field, self.config = name, tokens_field, tags_field, config


def test_read_hf_saved_dataset_maps_class_ids(tmp_path):
    import datasets

    feats = datasets.Features(
        {
            "tokens": datasets.Sequence(datasets.Value("string")),
            "ner_tags": datasets.Sequence(datasets.ClassLabel(names=["O", "B-PER", "I-PER"])),
        }
    )
    train = datasets.Dataset.from_dict(
        {"tokens": [["Ana", "Ban", "ran"]], "ner_tags": [[1, 2, 0]]}, features=feats
    )
    dev = datasets.Dataset.from_dict(
        {"tokens": [["x"], ["y", "z"]], "ner_tags": [[0], [1, 0]]}, features=feats
    )
    datasets.DatasetDict({"train": train, "validation": dev}).save_to_disk(str(tmp_path / "ds"))
    sents = read_hf(HF(str(tmp_path / "ds")), "validation")
    assert [(s.tokens, s.tags) for s in sents] == [(["x"], ["O"]), (["y", "z"], ["B-PER", "O"])]
    assert sents[1].meta == {"file": f"hf:{tmp_path / 'ds'}[validation]", "line": 2, "format": "hf"}
    with pytest.raises(DataError, match=r"has no split 'test'; fix data.hf.splits"):
        read_hf(HF(str(tmp_path / "ds")), "test")
    with pytest.raises(
        DataError, match=r"data.hf.tags_field: .* has no column 'labels' \(columns: tokens, ner_tags\)"
    ):
        read_hf(HF(str(tmp_path / "ds"), tags_field="labels"), "train")


def test_read_hf_local_json_folder_with_string_and_int_tags(tmp_path, monkeypatch):
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "cache")
    d = tmp_path / "jsonds"
    d.mkdir()
    rows = [{"words": ["Zagreb", "is"], "tags": ["B-LOC", "O"]}, {"words": ["ok"], "tags": ["O"]}]
    (d / "train.json").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    src = HF(str(d), tokens_field="words", tags_field="tags")
    sents = read_hf(src, "train")
    assert [(s.tokens, s.tags) for s in sents] == [(["Zagreb", "is"], ["B-LOC", "O"]), (["ok"], ["O"])]
    assert (tmp_path / "cache").exists()  # nothing cached outside the test's folder
    ints = tmp_path / "ints"
    ints.mkdir()
    (ints / "test.json").write_text(json.dumps({"words": ["a"], "tags": [3]}), encoding="utf-8")
    with pytest.raises(DataError) as e:
        read_hf(HF(str(ints), tokens_field="words", tags_field="tags"), "test")
    assert str(e.value) == (
        f"hf:{ints}[test]:1: tags are class ids but column 'tags' has no ClassLabel names; "
        "store string tags or a ClassLabel feature"
    )


def test_read_hf_a_path_never_goes_to_the_hub(tmp_path, monkeypatch):
    import datasets

    def no_hub(*a, **k):
        raise AssertionError("the hub was asked")

    monkeypatch.setattr(datasets, "load_dataset", no_hub)
    for name in (str(tmp_path / "no_such_dataset_dir"), "./hf_seq", "../data/hf_seq", "data/sets/hf_seq", "~/x"):
        with pytest.raises(DataError) as e:
            read_hf(HF(name), "train")
        assert str(e.value) == (
            f"data.hf.name: {name}: folder not found (a path, so the hub is not asked); fix data.hf.name "
            "(relative paths resolve against the spec's folder)"
        )


def test_hf_folder_beside_the_spec_resolves_from_any_working_dir(tmp_path, monkeypatch):
    import datasets

    from seqlab_spec.data.load import load_splits
    from seqlab_spec.spec.load import load_spec

    feats = datasets.Features(
        {
            "tokens": datasets.Sequence(datasets.Value("string")),
            "ner_tags": datasets.Sequence(datasets.ClassLabel(names=["O", "B-PER"])),
        }
    )
    ds = datasets.Dataset.from_dict({"tokens": [["Ana", "ran"]], "ner_tags": [[1, 0]]}, features=feats)
    proj = tmp_path / "proj"
    datasets.DatasetDict({"train": ds}).save_to_disk(str(proj / "hf_seq"))
    (proj / "spec.yaml").write_text(
        "name: hf\ndata: {format: hf, hf: {name: hf_seq, splits: {train: train}}}\n", encoding="utf-8"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    spec = load_spec(proj / "spec.yaml")
    assert spec.data.hf.name == str(proj / "hf_seq")
    assert [(s.tokens, s.tags) for s in load_splits(spec)["train"]] == [(["Ana", "ran"], ["B-PER", "O"])]
