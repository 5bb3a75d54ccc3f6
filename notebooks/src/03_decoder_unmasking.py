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
from seqlab_spec.notebook import default_spec, resolve_params

interactive = spec is None
spec_path, overrides = default_spec(spec_path, overrides, cpu="unmask_conll03_cpu", gpu="unmask_conll03_gpu")
spec, run_dir = resolve_params(spec, spec_path, run_dir, overrides)  # a pattern list: its first pattern
from seqlab_spec.machine import check_fits

FIT = check_fits(spec, DEVICE)  # from the model's config, before any weights load: stops here if they cannot fit
if demo_sweep is None:
    demo_sweep = ["0000", "1111"] if interactive else []
print("pattern:", spec.method.unmask)

# %% [markdown]
# ## 1 · What a causal decoder sees
# Two sentences that differ only **after** the first word. Under the stock causal mask the hidden state of
# the first word cannot differ: it never saw the rest. With every layer unmasked (`1111`) it does.

# %%
from seqlab_spec.notebook import demo_backbone, first_word_gap

# A second, frozen copy for the demonstrations, on the CPU: the spec's model when it is small, else the small
# embedded decoder (a second copy of a 7B model would need ~13.5 GB of RAM beside the one being trained).
demo_model, backbone, tok = demo_backbone(spec.model.name, FIT.params)
print(f"demonstrations on {demo_model}")
n_layers = backbone.config.num_hidden_layers
a, b = "Jordan scored thirty points".split(), "Jordan signed the peace treaty".split()
for pattern in ["0000", "1111"]:
    gap = first_word_gap(backbone, tok, a, b, pattern)
    print(f"pattern {pattern}: max |difference| of the state of 'Jordan' = {gap:.6f}")

# %% [markdown]
# ## 2 · The masks of a pattern, layer by layer
# With G groups over L layers, each group gets L // G layers and the first L % G groups one more (30 layers,
# `0110` → 8, 8, 7, 7). Each square shows which words (columns) a word (row) may attend to in that layer.

# %%
from seqlab_spec.models.unmask import bidirectional_attention_matrix, group_layers
from seqlab_spec.evaluation.plots import mask_grid

pattern = spec.method.unmask
mask_grid(bidirectional_attention_matrix(pattern, n_layers, 8), group_layers(n_layers, len(pattern)), pattern)

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
from seqlab_spec.notebook import split_f1_lines

print(split_f1_lines(metrics, ["dev", "test"]))

# %% [markdown]
# ## 4 · A small sweep over patterns
# The same data, steps and seed for each pattern: `sweep_spec` makes a spec whose `sweep:` is the patterns of
# `demo_sweep` other than the one trained above, and `run_spec` runs it as `seqlab-spec run` runs any spec
# (`seqlab-spec run` does the same for a pattern list or `all` in `method.unmask`). Each pattern is an
# ordinary run folder under this run's `patterns/`; the table and bars are the comparison report of
# `seqlab-spec report`, this run included. Stepping through by hand `demo_sweep` is `0000` and `1111`; under
# `seqlab-spec run` it is empty (the section is skipped) unless the `demo_sweep` parameter names patterns.

# %%
from IPython.display import Image, Markdown, display

from seqlab_spec.runner.execute import run_spec
from seqlab_spec.notebook import comparison, sweep_spec

patterns = sweep_spec(spec, "method.unmask", demo_sweep, name=f"{spec.name}-patterns")
if patterns is not None:
    pattern_runs = run_spec(patterns, run_dir / "patterns", use_notebook=False)
    title = f"span F1 ({spec.eval.mode} reading) per unmask pattern"
    display(Markdown(comparison([run_dir, *pattern_runs], run_dir / "patterns_f1.png", title)))
    display(Image(filename=str(run_dir / "patterns_f1.png")))

# %% [markdown]
# ## Exercises
# ### Exercise 1 · Build the masks of a pattern
# Write `layer_masks(pattern, n_layers, seq_len)` returning one `(seq_len, seq_len)` bool tensor per layer:
# `True` where row i may attend to column j. Use the group rule above.

# %%
import torch


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
from seqlab_spec.notebook import changed_layers

changed = changed_layers(backbone, tok, a, a[:-1] + ["goals"], "0011")  # the first word's state, layer by layer
check(first_leaky_layer == changed[0], f"the first leaky layer is {first_leaky_layer}")
