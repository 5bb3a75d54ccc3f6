"""What runs scored, in words: one run's summary for the terminal, and a comparison of run folders (one markdown
table, mean ± std over runs that differ only by seed; rundir.write_sweep_report writes it with an F1 bar chart)."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from ..evaluation.scores import READINGS, headline, headline_f1
from .rundir import load_run

IGNORED = {"name", "description", "run.out_dir", "sweep", "run.notebook"}


def _flatten(d: dict, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def _fmt(values: list[float], seeds: list) -> str:
    """Mean ± sample std over runs of different seeds; runs that repeat one seed have no spread to show: their
    value when they agree, else their range."""
    if not values:
        return "–"
    if len(values) == 1 or (len(set(seeds)) == 1 and len(set(values)) == 1):
        return f"{values[0]:.4f}"
    if len(set(seeds)) == 1:
        return f"{statistics.mean(values):.4f} (range {min(values):.4f}–{max(values):.4f})"
    return f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}"


def _reading(metrics: dict) -> str:
    """The headline reading of a run's metrics ("strict" / "conlleval"), "–" when no split was scored."""
    for split in ("test", "dev"):
        if split in metrics:
            return headline(metrics[split])[0]
    return "–"


def compare(run_dirs: list[Path]) -> tuple[str, list[tuple[str, float, float]]]:
    """Markdown table and (label, mean dev F1, mean test F1) rows for a bar chart. Settings are named by their
    full dotted keys; F1 is each run's headline reading (named in the table)."""
    loaded = [(Path(d), *load_run(d)) for d in run_dirs]
    flat = [_flatten(spec.model_dump(mode="json")) for _, spec, _ in loaded]
    readings = [_reading(m) for _, _, m in loaded]
    keys = sorted({k for f in flat for k in f})
    differing = [k for k in keys if k not in IGNORED and len({repr(f.get(k)) for f in flat}) > 1]
    setting_keys = [k for k in differing if k != "train.seed"]
    groups: dict[tuple, list[int]] = {}
    for i, f in enumerate(flat):
        groups.setdefault((readings[i], *(repr(f.get(k)) for k in setting_keys)), []).append(i)
    head = ["setting", "method", "model", "runs", "F1 reading", "dev F1", "test F1"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    bars = []
    for idx in groups.values():
        f0 = flat[idx[0]]
        label = ", ".join(f"{k}={f0.get(k)}" for k in setting_keys) or loaded[idx[0]][1].name
        seeds = [flat[i].get("train.seed") for i in idx]
        dev = [v for i in idx if (v := headline_f1(loaded[i][2], "dev")) is not None]
        test = [v for i in idx if (v := headline_f1(loaded[i][2], "test")) is not None]
        runs = ", ".join(loaded[i][0].name for i in idx)
        lines.append(
            f"| {label} | {f0['method.name']} | {f0['model.name']} | {runs} | {readings[idx[0]]} "
            f"| {_fmt(dev, seeds)} | {_fmt(test, seeds)} |"
        )
        bars.append((label, statistics.mean(dev) if dev else 0.0, statistics.mean(test) if test else 0.0))
    used = [r for r in READINGS if r in readings]
    note = (
        "\nSpan micro F1 in each run's headline reading (eval.mode): "
        + "; ".join(f"{r} = {READINGS[r]}" for r in used)
        + ". Mean ± sample std over runs that differ only by `train.seed`; runs repeating one seed show their "
        "value (or range).\n"
    )
    return "\n".join(lines) + "\n" + note, bars


def summary_lines(metrics: dict, predictions: list[dict], show: int) -> str:
    """What the CLI prints at the end: F1 per split in the headline reading (named, the other one beside it)
    and a few predicted sentences with their raw tags."""
    lines = []
    for split in ("dev", "test"):
        if split in metrics:
            mode, scores = headline(metrics[split])
            m = scores["micro"]
            others = [
                f"{o} {metrics[split][o]['micro']['f1']:.4f}" for o in READINGS if o != mode and o in metrics[split]
            ]
            lines.append(
                f"{split:5s} span F1 {m['f1']:.4f}  (P {m['precision']:.4f}  R {m['recall']:.4f}; {mode} reading"
                + "".join(f"; {x}" for x in others)
                + ")"
            )
    pool = [r for r in predictions if r["split"] == "test"] or predictions
    # sentences with a predicted span first: they show what the model does
    shown = sorted(pool, key=lambda r: all(p == "O" for p in r["pred"]))[:show]
    for r in shown:
        lines.append(
            "  " + " ".join(f"{t}/{p}" if p != "O" else t for t, p in zip(r["tokens"], r["pred"], strict=True))
        )
    return "\n".join(lines)
