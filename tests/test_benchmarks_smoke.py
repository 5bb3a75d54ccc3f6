"""benchmarks/: the helpers' arithmetic, one script end to end with --tiny (JSON shape), the report generator,
and gpu_paths' skip without CUDA."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import ROOT, needs_data

sys.path.insert(0, str(ROOT / "benchmarks"))

import common  # noqa: E402
import generate_report  # noqa: E402
import inference  # noqa: E402


def test_alternate_runs_rounds_in_abba_order_and_ratios_pair_adjacent_rounds() -> None:
    calls: list[str] = []
    seconds = {"a": iter([2.0, 4.0, 6.0]), "b": iter([1.0, 1.0, 2.0])}

    def arm(name: str):
        def run() -> dict[str, float]:
            calls.append(name)
            return {"seconds": next(seconds[name])}

        return run

    samples = common.alternate({"a": arm("a"), "b": arm("b")}, rounds=3)
    assert calls == ["a", "b", "b", "a", "a", "b"]
    ratio = common.paired_ratio(samples, "a", "b", "seconds")
    assert ratio["values"] == [2.0, 4.0, 3.0] and ratio["median"] == 3.0 and ratio["n"] == 3


def test_flops_per_token_is_6n_for_full_finetuning_and_4n_plus_2t_for_lora() -> None:
    assert common.train_flops_per_token({"matmul": 100, "trainable": 130}) == 600  # head/embeddings trainable too
    assert common.train_flops_per_token({"matmul": 100, "trainable": 3}) == 406


def test_param_counts_separate_embedding_tables_and_token_counter_sees_training_forwards_only() -> None:
    import torch

    class Toy(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = torch.nn.Embedding(10, 4)
            self.lin = torch.nn.Linear(4, 3)
            self.emb.weight.requires_grad_(False)

        def forward(self, input_ids, attention_mask):
            return self.lin(self.emb(input_ids))

    model = Toy()
    assert common.param_counts(model) == {"total": 55, "trainable": 15, "embedding": 40, "matmul": 15}
    counter = common.TokenCounter(model)
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0]])
    model(input_ids=torch.zeros(2, 4, dtype=torch.long), attention_mask=mask)
    model.eval()
    model(input_ids=torch.zeros(2, 4, dtype=torch.long), attention_mask=mask)
    counter.remove()
    model.train()
    model(input_ids=torch.zeros(2, 4, dtype=torch.long), attention_mask=mask)
    assert (counter.real, counter.padded, counter.forwards) == (5, 8, 1)


def test_pipeline_groups_map_back_to_word_tags_by_character_offsets() -> None:
    words = ["EU", "rejects", "German", "call", "in", "AL-AIN"]
    # ' '.join(words): EU 0-2, rejects 3-10, German 11-17, call 18-22, in 23-25, AL-AIN 26-32
    groups = [
        {"entity_group": "ORG", "start": 0, "end": 2},
        {"entity_group": "MISC", "start": 11, "end": 17},
        {"entity_group": "LOC", "start": 26, "end": 28},  # the pipeline took "AL" for a word of its own
        {"entity_group": "PER", "start": 29, "end": 32},  # ... and "AIN" for another: ignored, word taken
    ]
    tags, inside = inference.groups_to_tags(words, groups)
    assert tags == ["B-ORG", "O", "B-MISC", "O", "O", "B-LOC"]
    assert inside == 2
    assert inference.normalised(["I-PER", "I-PER", "O", "B-LOC", "I-ORG"]) == ["B-PER", "I-PER", "O", "B-LOC", "B-ORG"]


def test_report_renders_known_and_unknown_results_with_their_provenance(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    summary = common.summary([2.0, 3.0, 4.0])
    (out / "startup.json").write_text(
        json.dumps(
            {
                "name": "startup",
                "command": ".venv/bin/python benchmarks/startup.py --rounds 3",
                "date": "2026-01-02T03:04:05+00:00",
                "machine": {"cpu": "Xeon", "logical_cores": 2, "torch_threads": 1, "load_avg_1_5_15": [3.0, 2, 1]},
                "versions": {"torch": "2.13.0"},
                "results": {
                    "command_timed": "seqlab-spec run x",
                    "seconds_noisy": {"first_step_warm": summary},
                    "ratios": {"first_step cold/warm": summary},
                },
            }
        )
    )
    (out / "new_thing.json").write_text(json.dumps({"results": {"src": {"f1": 0.5}}, "command": "python s.py"}))
    f1 = {"values": [0.4, 0.6], "mean": 0.5, "std": 0.1414, "n": 2}
    direction = {
        "spec": "specs/x.yaml",
        "sentences": {"source_train": 10, "target_test": 5},
        "overlap": {"target": {"split": "target_test", "span_f1": 0.12, "trigger_tokens_in_relation": 0.3}},
        "target_test_f1": {"none": {"0": f1, "10": f1}, "explicit": {"0": f1}},
        "in_domain_source_test_f1": {"none": {"0": f1}},
        "seconds": 3.0,
    }
    (out / "oie_transfer.json").write_text(json.dumps({"results": {"a_to_b": direction}}))
    run = {"strategy": "src", "k": 1, "test_f1": 0.3, "precision": 0.4, "recall": 0.24,
           "parser": {"spans": 9, "malformed": 2, "repeated": 0}, "train_tokens_per_s": 120.0,
           "generation": {"tokens_per_s": 15.5}}
    settings = {"spec": "s.yaml", "train_sentences": 50, "steps": 4, "batch": 2, "seed": 1, "test_sentences": 8,
                "ks": [1]}
    throughput = {"k": 1, "steps_per_arm": 2, "batch": 2, "src": {"tokens_per_s": summary, "ratio_to_vanilla": summary}}
    setting = {"decoder": "d", "decoder_lr": 1, "encoder_lr": 1, "train_sentences": 4, "dev_sentences": 2,
               "test_sentences": 2, "epochs": 1, "batch_size": 2, "max_length": 8, "seed": 1, "spec": "u.yaml"}
    step = {"batch": {"sentences": 2, "padded_length": 8}, "precision": "bf16",
            "seconds_per_step_noisy": {"0000": summary, "0110": summary}, "ratio_to_0000": {"0110": summary}}
    f1 = {f"smollm2 {p}": {"dev_f1": 0.5, "test_f1": 0.25, "wall_seconds_noisy": 9.0} for p in ("0000", "0110", "1111")}
    unmask = {"setting": setting, "patterns": ["0000", "0110", "1111"], "step_time": step, "f1": f1}
    (out / "unmask_patterns.json").write_text(json.dumps({"results": unmask}))
    (out / "sift_strategies.json").write_text(
        json.dumps({"results": {"settings": settings, "f1_runs": [run], "train_throughput": throughput}})
    )
    free = {"test_f1": 0.3, "precision": 0.4, "recall": 0.24, "parser": {"spans": 9, "malformed": 2},
            "generation": {"new_tokens": 40, "tokens_per_s": 15.5}}
    con = free | {"test_f1": 0.35, "parser": {"spans": 10, "malformed": 0},
                  "generation": {"new_tokens": 30, "tokens_per_s": 14.0}}
    both = run | {"decodings": {"free": free, "constrained": con}}
    decoding = {"settings": settings, "complete": False, "f1_runs": [both],
                "constrained_vs_free": {"cells": {"src@k=1": {}}, "f1_gain_min": 0.05, "f1_gain_mean": 0.05,
                                        "cells_constrained_at_least_free": 1, "tokens_per_s_ratio_median": 0.903}}
    (out / "sift_strategies.decoding.json").write_text(json.dumps({"results": decoding}))
    overhead = {"k": 1, "sentences": 6, "vocab_build_seconds": 1.5,
                "free": {"tokens_per_s": summary, "s_per_sentence": summary},
                "constrained": {"tokens_per_s": summary, "s_per_sentence": summary, "processor_share": summary},
                "tokens_per_s_ratio": summary, "s_per_sentence_ratio": summary}
    (out / "sift_decoding_overhead.json").write_text(json.dumps({"results": {"overhead": overhead}}))
    (out / "memory.tiny.json").write_text("{}")
    report = tmp_path / "B.md"
    assert generate_report.main(["--out-dir", str(out), "--output", str(report)]) == 0
    text = report.read_text()
    assert "## Start-up: first training step and validate" in text
    assert "- Command: `.venv/bin/python benchmarks/startup.py --rounds 3`" in text
    assert "| first_step cold/warm | 3 (2–4, n=3) |" in text
    assert "## New thing" in text and "| `src.f1` | 0.5 |" in text and "- Command: `python s.py`" in text
    assert "### a to b" in text and "| target | target_test | 0.12 | 0.3 |" in text
    assert "| injection | zero-shot | k=10 | in-domain (source test) |" in text
    assert "| none | 0.500 ± 0.141 (2) | 0.500 ± 0.141 (2) | 0.500 ± 0.141 (2) |" in text
    assert "| explicit | 0.500 ± 0.141 (2) | — | — |" in text
    assert "| src | 1 | 0.3 | 0.4 | 0.24 | malformed 2 | 120.0 | 15.5 |  |" in text
    assert "| 0110 | 3 (2–4, n=3) | 3 (2–4, n=3) |" in text and "| smollm2 1111 | 0.5 | 0.25 | 9 |" in text
    assert "| unmask step time 0110 / 0000 | 3 (2–4, n=3) | ≈ 1 |" in text
    assert "| src | 3 (2–4, n=3) | 3 (2–4, n=3) |" in text
    assert "## SIFT: free vs constrained decoding" in text
    assert "| src | 1 | free | 0.3 | 0.4 | 0.24 | 9 | malformed 2 | 40 | 15.5 |" in text
    assert "| src | 1 | constrained | 0.35 | 0.4 | 0.24 | 10 | — | 30 | 14 |" in text
    assert "(1 of 1 cells constrained >= free); constrained / free generation tokens/s: median 0.903." in text
    assert "| constrained | 3 (2–4, n=3) | 3 (2–4, n=3) | 3 (2–4, n=3) |" in text
    assert "Constrained / free, paired per round: tokens/s x3.000, s per sentence x3.000; 6 test sentences" in text
    assert "Incomplete: the run was cut short" in text
    assert "Peak memory" not in text  # tiny results stay out
    assert "## GPU paths (real shapes, no hub)\n\nNot measured yet" in text


def test_inference_tiny_writes_the_expected_json(tmp_path: Path) -> None:
    # --threads sets OMP_NUM_THREADS and torch's threads: conftest restores both after the test
    assert inference.main(["--tiny", "--out", str(tmp_path), "--pipeline-batch", "8", "--threads", "1"]) == 0
    doc = json.loads((tmp_path / "inference.tiny.json").read_text())
    assert doc["tiny"] is True and doc["name"] == "inference"
    assert doc["command"].startswith(".venv/bin/python benchmarks/inference.py --tiny")
    assert {"cpu", "logical_cores", "torch_threads", "load_avg_1_5_15"} <= doc["machine"].keys()
    assert {"torch", "transformers", "seqlab_spec"} <= doc["versions"].keys()
    r = doc["results"]
    assert set(r["arms"]) >= {"seqlab_fp32", "pipeline_b8", "encode_only"}
    assert r["sentences"] == 24 and all(v["sentences_per_s_noisy"]["n"] == 1 for v in r["arms"].values())
    assert set(r["test_f1"]) >= {"seqlab_fp32", "pipeline_b8"}
    main_arm = "seqlab" if "seqlab" in r["arms"] else "seqlab_fp32"
    agree = r["agreement"][f"{main_arm} vs pipeline_b8"]
    assert 0.0 <= agree["sentences_identical"] <= agree["words_identical"] <= 1.0


def test_gpu_paths_skips_without_cuda(tmp_path: Path, capsys) -> None:
    import gpu_paths
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA present: gpu_paths measures instead of skipping")
    assert gpu_paths.main(["--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == gpu_paths.SKIP_MESSAGE
    assert list(tmp_path.iterdir()) == []


def test_batch_order_section_shows_each_order_with_its_figures() -> None:
    stats = {"mean": 0.5, "std": 0.25, "n": 3, "values": [0.25, 0.5, 0.75]}
    arm = {"test_f1_strict@10": stats, "test_f1_strict@20": stats, "padded_per_real": 1.5, "time_vs_random": stats}
    doc = {
        "datasets": {
            "conll03": {
                "budgets": [10, 20], "train_sentences": 80, "test_sentences": 20, "batch_size": 16, "lr": 3e-4,
                "precision": "auto", "summary": {"random": arm, "bucketed": arm},
            }
        }
    }
    md = generate_report.render_batch_order(doc)
    assert "The default is `train.batch_order: bucketed`." in md
    assert "| `bucketed` | 1.50 | 0.50 ± 0.25 | 0.500 ± 0.250 (3) | 0.500 ± 0.250 (3) |" in md
    assert "F1 @ 10 steps | F1 @ 20 steps |" in md


def test_logical_numel_counts_a_packed_4bit_weight_at_the_shape_it_stands_for() -> None:
    import torch

    packed = torch.nn.Parameter(torch.zeros(8 * 6 // 2, 1, dtype=torch.uint8), requires_grad=False)
    packed.quant_state = type("QuantState", (), {"shape": torch.Size([8, 6])})()  # as bitsandbytes' Params4bit
    assert common.logical_numel(packed) == 48 and packed.numel() == 24
    assert common.logical_numel(torch.nn.Parameter(torch.zeros(3, 5))) == 15


@needs_data  # the GPU benchmark trains on CoNLL-2003, as the GPU specs do
def test_gpu_paths_cpu_rehearsal_runs_a_real_shape_setting_end_to_end(tmp_path: Path) -> None:
    """The rehearsal builds the MiniLM-L6 architecture (narrowed) from its config and trains it through the
    encoder pipeline: the whole script but the GPU."""
    import gpu_paths

    argv = ["--cpu-rehearsal", "--threads", "1", "--only", "encoder minilm", "--out", str(tmp_path)]
    assert gpu_paths.main(argv) == 0
    doc = json.loads((tmp_path / "gpu_paths.tiny.json").read_text())
    r = doc["results"]
    assert doc["tiny"] and r["device"] == "cpu" and r["warmup"]["setting"] == "encoder minilm-l6 full FT, batch 32"
    (name,) = r["settings"]
    s = r["settings"][name]
    assert "error" not in s, s
    assert s["steps"] == 3 and s["tokens_per_s"]["n"] == 1 and 0 < s["mfu"]["median"] < 1
