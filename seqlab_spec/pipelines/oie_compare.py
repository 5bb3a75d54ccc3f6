"""Side-by-side transfer comparisons for `oie-multitask`: vanilla vs implicit vs explicit, zero-/few-shot.

What notebook 02 and benchmarks/oie_transfer.py run. Per (injection, seed): stage 1 trains on the source and
is selected on source dev once; that model gives the zero-shot point (k = 0) and, scored on source test, the
in-domain point; each few-shot point continues a copy of it on k target sentences drawn with that seed
(`oie.k_shot`), exactly as a pipeline run with `method.regime: few-shot`, `method.k: [k]` and
`train.seed: seed` does, so one stage-1 training serves every k. Also the views notebook 02 shows of the two
domains (gold triggers beside the OIE relations); the curve's figure is `plots.few_shot_curve`.
"""

from __future__ import annotations

import contextlib
import copy
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import DataError, SpecError
from ..spec import Spec
from . import oie

INJECTIONS = ("none", "implicit", "explicit")


def variant(spec: Spec, injection: str, seed: int) -> Spec:
    """The zero-shot spec of one (injection, seed) cell of the comparison."""
    d = spec.model_dump(mode="json")
    d["method"].update({"injection": injection, "regime": "zero-shot"})
    d["train"]["seed"] = seed
    if injection != "none":
        d["signal"]["name"] = "oie"
    d["sweep"] = {}
    return Spec.model_validate(d)


def with_settings(spec: Spec, settings: dict[str, Any]) -> Spec:
    """A validated copy with dotted-path values set, e.g. {"data.limit.train": 600, "train.batch_size": 8}."""
    from ..spec.overrides import set_path, split_path

    d = spec.model_dump(mode="json")
    for key, value in settings.items():
        set_path(d, split_path(key), value)
    return Spec.model_validate(d)


def _f1(metrics: dict, split: str) -> float | None:
    from ..evaluation.scores import headline_f1

    return headline_f1(metrics, split)


def transfer_curve(
    spec: Spec,
    data: oie.TransferData,
    out_dir: Path,
    injections: Sequence[str] = INJECTIONS,
    ks: Sequence[int] = (10, 50, 100),
    seeds: Sequence[int] = (42,),
    progress: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """One row per (injection, seed, k): target-test F1 (k = 0: zero-shot, with source dev/test F1 too).
    `out_dir` holds the Trainer's checkpoints while a stage trains (removed after)."""
    if "target_test" not in data.splits or (ks and "target_train" not in data.splits):
        raise DataError("data.target: the comparison needs data.target.test (and .train for k > 0)")
    rows: list[dict[str, Any]] = []
    for injection in injections:
        for seed in seeds:
            s = variant(spec, injection, seed)
            t0 = time.time()
            model, tokenizer = oie.build_model(s, data.labels)
            stage = oie.Stage("source", data.splits["source_train"], data.selection)
            model, _ = oie.fit_stage(s, model, tokenizer, data, stage, Path(out_dir) / "checkpoints")
            names = [n for n in ("source_dev", "source_test", "target_test") if n in data.splits]
            scores, _ = oie.score(s, model, tokenizer, data, names)
            rows.append(
                {
                    "injection": injection,
                    "seed": seed,
                    "k": 0,
                    "target_test_f1": _f1(scores, "target_test"),
                    "source_dev_f1": _f1(scores, "source_dev"),
                    "source_test_f1": _f1(scores, "source_test"),
                    "seconds": round(time.time() - t0, 1),
                }
            )
            progress(f"{injection:8s} seed {seed}  zero-shot  target F1 {rows[-1]['target_test_f1']:.4f}")
            for k in ks:
                t1 = time.time()
                target = oie.Stage("target", oie.k_shot(data.splits["target_train"], k, seed), None)
                ckpt = Path(out_dir) / "checkpoints"
                tuned, _ = oie.fit_stage(s, copy.deepcopy(model), tokenizer, data, target, ckpt)
                scores, _ = oie.score(s, tuned, tokenizer, data, ["target_test"])
                rows.append(
                    {
                        "injection": injection,
                        "seed": seed,
                        "k": k,
                        "target_test_f1": _f1(scores, "target_test"),
                        "seconds": round(time.time() - t1, 1),
                    }
                )
                f1 = rows[-1]["target_test_f1"]
                progress(f"{injection:8s} seed {seed}  k={k:<4d}     target F1 {f1:.4f}")
    with contextlib.suppress(OSError):
        Path(out_dir).rmdir()  # only held the (removed) checkpoints
    return rows


def small_curve(
    spec: Spec,
    data: oie.TransferData,
    out_dir: Path,
    n_train: int,
    ks: Sequence[int],
    seeds: Sequence[int],
    batch_size: int = 16,
) -> list[dict[str, Any]]:
    """`transfer_curve` at settings a CPU runs in minutes: the first `n_train` source sentences (at most all of
    `data`'s), batches of `batch_size`; the data are read again at those settings."""
    n = min(n_train, len(data.splits["source_train"]))
    small = with_settings(spec, {"data.limit.train": n, "train.batch_size": batch_size})
    small_data = oie.prepare_data(oie.with_method(small, regime="zero-shot"))
    return transfer_curve(small, small_data, out_dir, ks=ks, seeds=seeds)


def summarize(rows: Sequence[dict[str, Any]], key: str = "target_test_f1") -> dict[str, dict[int, dict]]:
    """injection -> k -> {mean, std (sample; 0 for one seed), n, values} of `key` over seeds."""
    out: dict[str, dict[int, dict]] = {}
    for r in rows:
        if r.get(key) is None:
            continue
        out.setdefault(r["injection"], {}).setdefault(r["k"], {"values": []})["values"].append(r[key])
    for per_k in out.values():
        for cell in per_k.values():
            v = cell["values"]
            cell.update(mean=statistics.mean(v), std=statistics.stdev(v) if len(v) > 1 else 0.0, n=len(v))
    return out


def curve_table(rows: Sequence[dict[str, Any]], key: str = "target_test_f1") -> str:
    """Markdown: one row per injection, one column per k (0 = zero-shot), mean ± std over seeds."""
    table = summarize(rows, key)
    ks = sorted({k for per_k in table.values() for k in per_k})
    head = ["injection"] + ["zero-shot" if k == 0 else f"k={k}" for k in ks]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for injection, per_k in table.items():
        cells = []
        for k in ks:
            c = per_k.get(k)
            if c is None:
                cells.append("–")
            else:
                cells.append(f"{c['mean']:.4f}" + (f" ± {c['std']:.4f}" if c["n"] > 1 else ""))
        lines.append(f"| {injection} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ the domains


def check_two_domains(spec: Spec) -> None:
    """Notebook 02 shows relation tags in two domains: SpecError unless the spec has `signal: {name: oie}` and
    `data.target`."""
    if spec.signal.name != "oie" or spec.data.target is None:
        raise SpecError(
            [
                "signal / data.target: notebook 02 shows relation tags in two domains: set signal: "
                "{name: oie} and data.target (injection: none still trains the vanilla model)"
            ]
        )


def data_summary(data: oie.TransferData) -> str:
    """Sentences per split, the regime's training stages (and the split that selects each stage's model), and
    the split the regime tests on."""
    lines = [str({name: len(sents) for name, sents in data.splits.items()})]
    for st in data.stages:
        lines.append(f"stage {st.name}: {len(st.train)} training sentences, model selection on {st.dev or 'nothing'}")
    lines.append(f"tested on {data.test_split}")
    return "\n".join(lines)


def domain_examples(sentences: Sequence[Any], n: int = 3, min_words: int = 6, max_words: int = 25) -> list[Any]:
    """The first `n` sentences with a gold span and `min_words`..`max_words` words: short enough to read."""
    return [s for s in sentences if any(t != "O" for t in s.tags) and min_words <= len(s) <= max_words][:n]


def domain_table(title: str, sentences: Sequence[Any], triples: Sequence[Sequence[Any]], rel_tags) -> str:
    """HTML: a title row, then per sentence its gold spans over its relation tags, beside its triples."""
    import html

    from ..notebook import spans_html

    rows = [f"<tr><th colspan=2 style='text-align:left'>{html.escape(title)}</th></tr>"]
    for s, ts, r in zip(sentences, triples, rel_tags, strict=True):
        listed = "<br>".join(html.escape(" ; ".join(t.text(s.tokens))) for t in ts) or "(no triple)"
        rows.append(
            f"<tr><td>gold: {spans_html(s.tokens, s.tags)}<br>OIE: {spans_html(s.tokens, r)}</td>"
            f"<td style='font-size:85%'>{listed}</td></tr>"
        )
    return "<table>" + "".join(rows) + "</table>"


def domain_html(spec: Spec, data: oie.TransferData, n: int = 3) -> str:
    """Notebook 02's view of the two domains: for `n` short sentences of the source training split and of the
    target test split, the gold triggers, the relation tags the model gets and the extractor's triples."""
    from ..signals.oie import extract

    parts = []
    sides = [("source", spec.data.train, "source_train"), ("target", spec.data.target.test, "target_test")]
    for side, path, split in sides:
        picked = domain_examples(data.splits[split], n)
        triples = extract([s.tokens for s in picked], pipeline=spec.signal.pipeline, progress=False)
        parts.append(domain_table(f"{side}: {Path(str(path)).name}", picked, triples, data.rel_tags(picked)))
    return "".join(parts)
