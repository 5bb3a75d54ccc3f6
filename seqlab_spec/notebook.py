"""Small helpers the teaching notebooks call: parameters -> Spec, self-checks, HTML views, the specs and views of a
notebook's small comparisons (the device and memory checks: machine.py). The notebooks hold teaching text and
calls; what they compute lives here or in the pipelines."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .spec import Spec


def default_spec(
    spec_path: str | Path | None,
    overrides: Sequence[str],
    cpu: str,
    gpu: str | None = None,
    cpu_overrides: Sequence[str] = (),
) -> tuple[Path, list[str]]:
    """(spec path, overrides) of a notebook's parameters cell: `spec_path` and `overrides` as given, or, when no
    `spec_path` is given, the shipped spec sized for this machine: `gpu` where CUDA is available, else `cpu`
    (shipped spec names; `gpu` None: `cpu` on both), with `cpu_overrides` on a CPU when no overrides are given."""
    from .machine import has_cuda
    from .shipped import shipped_spec

    if spec_path is not None:
        return Path(spec_path), list(overrides)
    if has_cuda():
        return shipped_spec(gpu or cpu), list(overrides)
    return shipped_spec(cpu), list(overrides or cpu_overrides)


def first_run(spec: Spec) -> Spec:
    """A spec whose method asks for several runs (an unmask pattern list, oie-multitask k values or samples)
    -> its first run, which a notebook steps through (`seqlab-spec run` expands them before a notebook runs,
    so there this is the spec itself). The spec's own `sweep:` axes are left as they are."""
    from .spec.overrides import set_path, split_path

    axes = spec.method.sweep_axes(spec)
    if not axes:
        return spec
    d = spec.model_dump(mode="json")
    for key, values in axes.items():
        set_path(d, split_path(key), values[0])
    if any(len(values) > 1 for values in axes.values()):
        chosen = ", ".join(f"{key}={values[0]}" for key, values in axes.items())
        print(f"the spec asks for several runs; this notebook steps through the first ({chosen})")
    return Spec.model_validate(d)


def resolve_params(
    spec: dict | None, spec_path: str, run_dir: str | None, overrides: list[str] = ()
) -> tuple[Spec, Path]:
    """The parameters cell -> a validated Spec (its first run: `first_run`) and a run folder holding it.

    Under `seqlab-spec run`, papermill injects `spec` (the resolved spec as a dict) and `run_dir`; stepping
    through by hand, the spec is read from `spec_path`. Either way it is validated by the same Spec model. The
    run folder gets the spec's spec.yaml unless it has one (`seqlab-spec run` writes it), so a run stepped
    through by hand is a run folder like any other (`seqlab-spec report`, comparisons).
    """
    from .runner.rundir import RUN_FILES, create_run_dir, write_resolved_spec
    from .shipped import checkout_root
    from .spec.load import load_spec, spec_from_params

    if spec is not None:
        parsed = spec_from_params(spec)
    else:
        path = Path(spec_path)
        parsed = load_spec(path if path.is_absolute() else (Path.cwd() / path), list(overrides))
    parsed = first_run(parsed)
    if run_dir is None:
        out = Path(parsed.run.out_dir)
        base = checkout_root() or Path.cwd()  # a checkout's runs/, else beside where the notebook runs
        run_path = create_run_dir(out if out.is_absolute() else base / out, parsed.name)
    else:
        run_path = Path(run_dir)
    if not (run_path / RUN_FILES["spec"]).exists():
        write_resolved_spec(run_path, parsed)
    print(f"spec {parsed.name!r}: method {parsed.method.name}, model {parsed.model.name}; run folder {run_path}")
    return parsed, run_path


def check(condition: bool, message: str) -> None:
    """A self-check: a green tick, or an AssertionError saying what to look at."""
    if not condition:
        raise AssertionError(f"not yet: {message}")
    print(f"✓ {message}")


_COLORS = ["#ffd8a8", "#b2f2bb", "#a5d8ff", "#eebefa", "#ffec99", "#c3fae8", "#ffc9c9", "#d0bfff"]


def spans_html(tokens: list[str], tags: list[str], types: list[str] | None = None) -> str:
    """Words with their BIO spans highlighted and labelled (for notebooks)."""
    from .data.schemes import spans

    types = types or sorted({lab for _, _, lab in spans(tags)})
    out, i = [], 0
    for a, b, lab in spans(tags):
        out += [html.escape(t) for t in tokens[i:a]]
        color = _COLORS[types.index(lab) % len(_COLORS)] if lab in types else "#eee"
        text = html.escape(" ".join(tokens[a:b]))
        out.append(
            f'<span style="background:{color};padding:1px 3px;border-radius:3px">{text}'
            f'<sub style="font-size:70%"> {html.escape(lab)}</sub></span>'
        )
        i = b
    out += [html.escape(t) for t in tokens[i:]]
    return " ".join(out)


def compare_html(rows: list[dict], n: int = 5, split: str | None = None, errors: bool = False) -> str:
    """Gold next to predicted spans for the first n prediction rows (of `split` only, when given; only those
    whose predicted tags differ from gold, with `errors`)."""
    parts = ["<table><tr><th>gold</th><th>predicted</th></tr>"]
    from .data.schemes import to_bio

    rows = [r for r in rows if (split is None or r["split"] == split) and not (errors and r["gold"] == r["pred"])]
    for r in rows[:n]:
        gold = to_bio(r["gold"], "bio")[0] if r["gold"] else []
        pred = to_bio(r["pred"], "bio")[0] if r["pred"] else []
        parts.append(f"<tr><td>{spans_html(r['tokens'], gold)}</td><td>{spans_html(r['tokens'], pred)}</td></tr>")
    return "".join(parts) + "</table>"


def first_labeled(sentences: Sequence[Any]) -> int:
    """Index of the first sentence with a span (a tag other than O): the example a notebook shows."""
    for i, sentence in enumerate(sentences):
        if any(t != "O" for t in sentence.tags):
            return i
    raise ValueError("no sentence has a span: every tag is O")


def trainable_parameters(model: Any) -> int:
    """Parameters the optimizer updates (requires_grad): the head and adapters, or all of a full fine-tune."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def alignment_table(tokenizer, words: list[str], tags: list[str], max_length: int = 128) -> str:
    """Subwords, their word, and the training label (-100 where the loss ignores them), as an HTML table."""
    from .data.alignment import first_subword_labels
    from .data.encoding import encode_words

    enc = encode_words(tokenizer, words, max_length)
    fake_ids = list(range(len(words)))
    first = first_subword_labels(enc.word_ids, fake_ids)
    rows = []
    for tid, w, lab in zip(enc.input_ids, enc.word_ids, first, strict=True):
        label = "-100" if lab == -100 else tags[lab]
        word = "" if w is None else html.escape(words[w])
        rows.append(
            f"<tr><td><code>{html.escape(tokenizer.convert_ids_to_tokens(tid))}</code></td>"
            f"<td>{word}</td><td>{label}</td></tr>"
        )
    return "<table><tr><th>subword</th><th>word</th><th>training label</th></tr>" + "".join(rows) + "</table>"


def split_f1_lines(metrics: dict[str, Any], splits: Sequence[str]) -> str:
    """One line per scored split of `splits`: headline micro F1, P and R (its reading named), conlleval F1."""
    from .evaluation.scores import headline

    lines = []
    for split in splits:
        if split not in metrics:
            continue
        reading, scores = headline(metrics[split])
        m = scores["micro"]
        lines.append(
            f"{split:12s} F1 {m['f1']:.4f}  (P {m['precision']:.4f}  R {m['recall']:.4f}; {reading} reading; "
            f"conlleval {metrics[split]['conlleval']['micro']['f1']:.4f})"
        )
    return "\n".join(lines)


def sweep_spec(
    spec: Spec, axis: str, values: Sequence[Any], name: str, settings: dict[str, Any] | None = None
) -> Spec | None:
    """`spec` with dotted `settings` applied and one run per value of `axis` (a dotted path) other than the
    spec's own (the notebook has trained that one), the rest equal; its `sweep:` is only that axis. Named
    `name`; run it with `execute.run_spec`. None when no other value is left."""
    from .spec.overrides import set_path, split_path

    d = spec.model_dump(mode="json")
    for key, value in (settings or {}).items():
        set_path(d, split_path(key), value)
    own: Any = d
    for part in split_path(axis):
        own = own.get(part) if isinstance(own, dict) else None
    others: list[Any] = []
    for v in values:
        if v != own and v not in others:
            others.append(v)
    if not others:
        return None
    d["sweep"] = {axis: others}
    d["name"] = name
    return Spec.model_validate(d)


def comparison(run_dirs: Sequence[Path], png: Path, title: str) -> str:
    """The comparison report of run folders (markdown table, as `seqlab-spec report` writes it), with its F1
    bars written to `png`."""
    from .evaluation.plots import f1_bars
    from .runner.report import compare

    table, bars = compare(list(run_dirs))
    f1_bars(bars, png, title=title)
    return table


# ---------------------------------------------------------------- notebook 03: what a causal decoder sees


def demo_backbone(model_name: str, params: int, limit: int = 500_000_000) -> tuple[str, Any, Any]:
    """(name, backbone, tokenizer): a second, frozen float32 copy on the CPU for demonstrations: `model_name`
    when it has at most `limit` parameters, else the embedded smollm2-135m (a second copy of a 7B model would
    need ~13.5 GB of RAM beside the one being trained)."""
    import torch
    from transformers import AutoModel

    from .models.registry import load_tokenizer, resolve

    name = model_name if params <= limit else "smollm2-135m"
    resolved = resolve(name)
    backbone = AutoModel.from_pretrained(resolved.path, dtype=torch.float32).eval()
    return name, backbone, load_tokenizer(resolved)


def _first_token_states(backbone: Any, tokenizer: Any, words: list[str], pattern: str, all_layers: bool) -> Any:
    import torch

    from .data.encoding import encode_words
    from .models.unmask import apply_unmask

    apply_unmask(backbone, pattern)
    ids = torch.tensor([encode_words(tokenizer, words, 32).input_ids])
    with torch.no_grad():
        out = backbone(input_ids=ids, output_hidden_states=all_layers)
    if all_layers:
        return [h[0, 0] for h in out.hidden_states[1:]]  # hidden_states[k + 1] is the output of layer k
    return out.last_hidden_state[0, 0]


def first_word_gap(backbone: Any, tokenizer: Any, a: list[str], b: list[str], pattern: str) -> float:
    """Max |difference| of the first token's last hidden state between sentences `a` and `b` (words), with the
    unmask `pattern` applied to `backbone`: 0 under a causal mask when they differ only after that token."""
    first = _first_token_states(backbone, tokenizer, a, pattern, all_layers=False)
    return (first - _first_token_states(backbone, tokenizer, b, pattern, all_layers=False)).abs().max().item()


def changed_layers(backbone: Any, tokenizer: Any, a: list[str], b: list[str], pattern: str, tol: float = 1e-6):
    """The layers (0-based) whose output at the first token differs (by more than `tol`) between sentences `a`
    and `b`, with the unmask `pattern` applied to `backbone`."""
    states_a = _first_token_states(backbone, tokenizer, a, pattern, all_layers=True)
    states_b = _first_token_states(backbone, tokenizer, b, pattern, all_layers=True)
    return [k for k, (x, y) in enumerate(zip(states_a, states_b, strict=True)) if (x - y).abs().max() > tol]
