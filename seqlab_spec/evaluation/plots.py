"""Pictures a person would rather look at than read: learning curves, F1 bars, the few-shot curve, unmask masks."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def learning_curve(log_history: list[dict], path: Path | None = None, title: str = ""):
    """Training loss per step and dev F1 per epoch, side by side."""
    steps = [r["step"] for r in log_history if "loss" in r and r.get("loss") is not None]
    losses = [r["loss"] for r in log_history if "loss" in r and r.get("loss") is not None]
    evals = [(r["epoch"], r["eval_f1"]) for r in log_history if r.get("eval_f1") is not None]
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2))
    a.plot(steps, losses, marker=".", lw=1)
    a.set(xlabel="step", ylabel="training loss", title="loss")
    if evals:
        b.plot([e for e, _ in evals], [f for _, f in evals], marker="o")
    b.set(xlabel="epoch", ylabel="dev span F1", title="dev F1", ylim=(0, 1))
    fig.suptitle(title)
    return _finish(fig, path)


def f1_bars(rows: list[tuple[str, float, float]], path: Path | None = None, title: str = "", ylabel: str = "span F1"):
    """Grouped bars: (name, dev F1, test F1) per run or pattern."""
    import numpy as np

    names = [r[0] for r in rows]
    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(max(4, 0.7 * len(rows) + 2), 3.2))
    ax.bar(x - 0.2, [r[1] for r in rows], 0.4, label="dev")
    ax.bar(x + 0.2, [r[2] for r in rows], 0.4, label="test")
    ax.set_xticks(x, names, rotation=45 if len(rows) > 6 else 0)
    ax.set(ylabel=ylabel, ylim=(0, 1), title=title)
    ax.legend()
    return _finish(fig, path)


def few_shot_curve(summary: dict[str, dict[int, dict]], path: Path | None = None,
                   title: str = "few-shot learning curve"):
    """Target-test F1 against k (0 = zero-shot), one line per injection with ± std error bars: the summary is
    `oie_compare.summarize` (injection -> k -> {mean, std, ...})."""
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for injection, per_k in summary.items():
        ks = sorted(per_k)
        ax.errorbar(
            ks, [per_k[k]["mean"] for k in ks], yerr=[per_k[k]["std"] for k in ks], marker="o", capsize=3,
            label=injection,
        )
    ax.set(xlabel="k target sentences (0 = zero-shot)", ylabel="target test span F1", title=title)
    ax.legend()
    return _finish(fig, path)


def mask_grid(masks, groups: list[list[int]], pattern: str, path: Path | None = None):
    """One square per layer group of an unmask pattern: which words (columns) a word (row) may attend to in the
    group's first layer. `masks` is one (seq, seq) 0/1 matrix per layer (`unmask.bidirectional_attention_matrix`),
    `groups` the layer indices per group (`unmask.group_layers`)."""
    fig, axes = plt.subplots(1, len(groups), figsize=(2.4 * len(groups), 2.6), squeeze=False)
    for g, (ax, layers) in enumerate(zip(axes[0], groups, strict=True)):
        ax.imshow(masks[layers[0]].numpy(), cmap="Blues", vmin=0, vmax=1)
        ax.set_title(f"group {g} ({pattern[g]})\nlayers {layers[0]}–{layers[-1]}", fontsize=9)
        ax.set_xticks([]), ax.set_yticks([])
    fig.suptitle(f"pattern {pattern} on {len(masks)} layers: row attends to column")
    return _finish(fig, path)


def _finish(fig, path: Path | None):
    """Lay the figure out; with a path, write it (PNG, 110 dpi) and close it (a notebook shows the figure)."""
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return fig
