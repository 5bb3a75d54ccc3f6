# %% [markdown]
# # 03 · Decoder LLMs as taggers: removing the causal mask in layer groups
#
# A decoder LLM (Llama, Mistral, SmolLM2, ...) is trained to predict the next word, so each position may only
# look **left**: the *causal mask*. Used as a tagger (hidden state → linear head → label per word), that is a
# handicap: whether *Jordan* is a person or a country often depends on the words that follow it.
#
# Dukić & Šnajder (ACL 2024 Findings) split the layers into groups and let chosen groups attend both ways.
# A pattern such as `0110` splits the L layers into 4 contiguous groups; `1` = that group sees the whole
# sentence, `0` = it keeps the stock causal mask. This notebook shows the problem, draws the masks, trains
# the tagger and compares patterns.

# %% include: _colab_setup.py

# %%
# Device check: a GPU gets the thesis setup (a 7B model in 4-bit, QLoRA), a CPU the embedded SmolLM2-135M.
import time

from seqlab_spec.machine import device_summary

T0 = time.time()
DEVICE = device_summary()

# %% tags=["parameters"]
spec = None  # injected by `seqlab-spec run` (the resolved spec as a dict)
spec_path = None  # None: chosen by device below
run_dir = None
overrides = []  # dotted spec overrides, e.g. ["train.epochs=1"] (a grader sets its own)
solutions = False  # True fills in the exercises with the reference solutions
demo_sweep = None  # patterns for the small in-notebook sweep; None: ["0000", "1111"] when stepping through by hand

# %%
from seqlab_spec.notebook import resolve_params
from seqlab_spec.shipped import shipped_spec

interactive = spec is None
if spec_path is None:
    spec_path = shipped_spec("unmask_conll03_gpu" if DEVICE == "cuda" else "unmask_conll03_cpu")
spec, run_dir = resolve_params(spec, spec_path, run_dir, overrides)
from seqlab_spec.machine import check_fits

FIT = check_fits(spec, DEVICE)  # from the model's config, before any weights load: stops here if they cannot fit
if not isinstance(spec.method.unmask, str):  # a pattern list is a sweep: this notebook trains the first one
    spec = spec.model_copy(update={"method": spec.method.model_copy(update={"unmask": spec.method.unmask[0]})})
if demo_sweep is None:
    demo_sweep = ["0000", "1111"] if interactive else []
print("pattern:", spec.method.unmask)

# %% [markdown]
# ## 1 · What a causal decoder sees
# Two sentences that differ only **after** the first word. Under the stock causal mask the hidden state of
# the first word cannot differ: it never saw the rest. With every layer unmasked (`1111`) it does.

# %%
import torch
from transformers import AutoModel

from seqlab_spec.data.encoding import encode_words
from seqlab_spec.models.registry import load_tokenizer, resolve
from seqlab_spec.models.unmask import apply_unmask

# A second, frozen copy for the demonstrations, on the CPU: the spec's model when it is small, else the small
# embedded decoder (a second copy of a 7B model would need ~13.5 GB of RAM beside the one being trained).
demo_model = spec.model.name if FIT.params <= 500_000_000 else "smollm2-135m"
resolved = resolve(demo_model)
backbone = AutoModel.from_pretrained(resolved.path, dtype=torch.float32).eval()
print(f"demonstrations on {demo_model}")
tok = load_tokenizer(resolved)
n_layers = backbone.config.num_hidden_layers
a, b = "Jordan scored thirty points".split(), "Jordan signed the peace treaty".split()


def first_word_state(words: list[str], pattern: str) -> torch.Tensor:
    apply_unmask(backbone, pattern)
    ids = torch.tensor([encode_words(tok, words, 32).input_ids])
    with torch.no_grad():
        return backbone(input_ids=ids).last_hidden_state[0, 0]


for pattern in ["0000", "1111"]:
    gap = (first_word_state(a, pattern) - first_word_state(b, pattern)).abs().max().item()
    print(f"pattern {pattern}: max |difference| of the state of 'Jordan' = {gap:.6f}")

# %% [markdown]
# ## 2 · The masks of a pattern, layer by layer
# With G groups over L layers, each group gets L // G layers and the first L % G groups one more (30 layers,
# `0110` → 8, 8, 7, 7). Each square shows which words (columns) a word (row) may attend to in that layer.

# %%
import matplotlib.pyplot as plt

from seqlab_spec.models.unmask import bidirectional_attention_matrix, group_layers

pattern = spec.method.unmask
groups = group_layers(n_layers, len(pattern))
masks = bidirectional_attention_matrix(pattern, n_layers, 8)
fig, axes = plt.subplots(1, len(groups), figsize=(2.4 * len(groups), 2.6))
for g, (ax, layers) in enumerate(zip(axes if len(groups) > 1 else [axes], groups)):
    ax.imshow(masks[layers[0]].numpy(), cmap="Blues", vmin=0, vmax=1)
    ax.set_title(f"group {g} ({pattern[g]})\nlayers {layers[0]}–{layers[-1]}", fontsize=9)
    ax.set_xticks([]), ax.set_yticks([])
fig.suptitle(f"pattern {pattern} on {n_layers} layers: row attends to column")
fig.tight_layout()

# %% [markdown]
# ## 3 · Train the tagger
# The backbone's last hidden states go through dropout and a linear head; LoRA adapters train the backbone
# cheaply. Labels sit on each word's first subword; the tokenizer pads on the right so real tokens keep their
# positions.

# %%
from seqlab_spec.pipelines import tagger

data = tagger.prepare_data(spec)
model, tokenizer = tagger.build_model(spec, data.labels)
trainer = tagger.fit(spec, model, tokenizer, data, run_dir)
metrics, rows = tagger.evaluate(spec, trainer.model, tokenizer, data)
metrics = tagger.save(spec, run_dir, trainer.model, tokenizer, trainer, metrics, rows, time.time() - T0)
from seqlab_spec.evaluate import headline_f1

scores_f1 = {s: round(headline_f1(metrics, s), 4) for s in ("dev", "test") if s in metrics}
print(f"span F1 ({spec.eval.mode} reading):", scores_f1)

# %% [markdown]
# ## 4 · A small sweep over patterns
# The same data, steps and seed for each pattern (`seqlab-spec run` does this for a list of patterns or
# `all`, and writes the comparison report). Here a shortened version when you step through by hand.

# %%
from seqlab_spec.plots import f1_bars

results = [(spec.method.unmask, headline_f1(metrics, "dev") or 0.0, headline_f1(metrics, "test") or 0.0)]
for p in [p for p in demo_sweep if p != spec.method.unmask]:
    s = spec.model_copy(update={"method": spec.method.model_copy(update={"unmask": p})})
    m, t = tagger.build_model(s, data.labels)
    tr = tagger.fit(s, m, t, data, run_dir / f"sweep-{p}")
    scores, _ = tagger.evaluate(s, tr.model, t, data)
    results.append((p, headline_f1(scores, "dev") or 0.0, headline_f1(scores, "test") or 0.0))
for p, dev, test in results:
    print(f"{p}: dev F1 {dev:.4f}  test F1 {test:.4f}  ({spec.eval.mode} reading)")
f1_bars(results, title=f"span F1 ({spec.eval.mode} reading) per unmask pattern")

# %% [markdown]
# ## Exercises
# ### Exercise 1 · Build the masks of a pattern
# Write `layer_masks(pattern, n_layers, seq_len)` returning one `(seq_len, seq_len)` bool tensor per layer:
# `True` where row i may attend to column j. Use the group rule above.

# %%
def layer_masks(pattern: str, n_layers: int, seq_len: int) -> list[torch.Tensor]:
    # TODO: your code here
    raise NotImplementedError("Exercise 1: build the per-layer masks")

# %% tags=["solution"]
if solutions:
    def layer_masks(pattern: str, n_layers: int, seq_len: int) -> list[torch.Tensor]:
        size, extra = divmod(n_layers, len(pattern))
        flags = []
        for g, bit in enumerate(pattern):
            flags += [bit == "1"] * (size + (1 if g < extra else 0))
        causal = torch.tril(torch.ones(seq_len, seq_len, dtype=torch.bool))
        return [torch.ones_like(causal) if f else causal for f in flags]

# %% tags=["check"]
from seqlab_spec.notebook import check

for p, n in [("0110", 30), ("01", 5), ("1", 3), ("0011", 4)]:
    mine, ref = layer_masks(p, n, 6), bidirectional_attention_matrix(p, n, 6)
    check(len(mine) == n and all(x.equal(y) for x, y in zip(mine, ref)), f"masks of {p} on {n} layers")

# %% [markdown]
# ### Exercise 2 · Predict the leak
# With pattern `0011` on this model, we change the **last** word of a sentence and compare the hidden
# states of the **first** word, layer by layer. Which is the first layer (0-based) whose output changes?
# Set `first_leaky_layer` before running the check, which measures it.

# %%
# TODO: set first_leaky_layer (an int)
first_leaky_layer = None

# %% tags=["solution"]
if solutions:
    first_leaky_layer = group_layers(n_layers, 4)[2][0]  # the first layer of the first `1` group

# %% tags=["check"]
apply_unmask(backbone, "0011")
with torch.no_grad():
    hs_a = backbone(input_ids=torch.tensor([encode_words(tok, a, 32).input_ids]), output_hidden_states=True)
    hs_b = backbone(input_ids=torch.tensor([encode_words(tok, a[:-1] + ["goals"], 32).input_ids]),
                    output_hidden_states=True)
# hidden_states[k + 1] is the output of layer k
changed = [k for k in range(n_layers)
           if (hs_a.hidden_states[k + 1][0, 0] - hs_b.hidden_states[k + 1][0, 0]).abs().max() > 1e-6]
check(first_leaky_layer == changed[0], f"the first leaky layer is {first_leaky_layer}")
