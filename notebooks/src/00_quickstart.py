# %% [markdown]
# # 00 · Quickstart: fine-tune a pre-trained encoder to tag spans
#
# **Sequence labeling** gives every word of a sentence a label. Spans (a named entity, an event trigger, a
# chunk) are encoded with the **BIO** scheme: `B-X` begins a span of type X, `I-X` continues it, `O` is
# outside any span. In *"He walked home"*, the event trigger *walked* is `B-EVENT`, the rest `O`.
#
# This notebook runs the whole pipeline of seqlab-spec once, end to end, on the embedded MiniLM-L6 encoder
# and bundled LitBank events (literature, CC BY 4.0): **spec → data → model → train → evaluate → run folder**.
# Every step is one call into the library; `01_encoder_baseline` opens each step up.

# %% include: _colab_setup.py

# %%
# Which device do we have? The CPU-size spec runs in minutes on 2 cores; a GPU runs the same much faster.
import time

from seqlab_spec.machine import device_summary

T0 = time.time()
DEVICE = device_summary()

# %% tags=["parameters"]
# Parameters: `seqlab-spec run` injects the resolved spec (a dict) and the run folder here.
spec = None
spec_path = None  # None: the shipped quickstart.yaml (or a path to your own spec)
run_dir = None
overrides = []  # dotted spec overrides, e.g. ["train.epochs=1"] (a grader sets its own)
solutions = False

# %% [markdown]
# ## 1 · The spec
# One YAML file says everything about the experiment. It is validated (unknown keys, wrong values and
# impossible combinations are errors that name the line) before anything runs.

# %%
from seqlab_spec.notebook import resolve_params
from seqlab_spec.shipped import shipped_spec

spec, run_dir = resolve_params(spec, spec_path or shipped_spec("quickstart"), run_dir, overrides)
from seqlab_spec.machine import check_fits

FIT = check_fits(spec, DEVICE)  # from the model's config, before any weights load: stops here if they cannot fit
print(spec.model_dump_json(indent=1, include={"task", "data", "model", "train"}))

# %% [markdown]
# ## 2 · Data
# Sentences are read from column files and converted to BIO; the label set is fixed from the training split.
# `prepare_data` prints what it found: the span types being learned (and the column they were read from),
# sentences and words per split, and the splits evaluated after training.

# %%
from seqlab_spec.pipelines import tagger

data = tagger.prepare_data(spec)
print("labels:", data.labels.labels)

# %% [markdown]
# ## 3 · Model and training
# A pre-trained encoder gets a fresh linear layer on top that scores every label for every subword. The
# Trainer fine-tunes everything; after each epoch it scores the dev set and keeps the best checkpoint.

# %%
model, tokenizer = tagger.build_model(spec, data.labels)
trainer = tagger.fit(spec, model, tokenizer, data, run_dir)

# %% [markdown]
# ## 4 · Evaluation
# A predicted span counts only if its start, end and type all match a gold span. The headline (`eval.mode`,
# default `strict`) is seqeval's strict IOB2 mode on the model's raw tags: a span the model opens with `I-`
# instead of `B-` is missed. The table names its reading; the conlleval reading (which would accept that span)
# is printed under it, and both are in metrics.json.

# %%
from IPython.display import HTML, display

from seqlab_spec.evaluation.scores import format_scores
from seqlab_spec.notebook import compare_html

metrics, rows = tagger.evaluate(spec, trainer.model, tokenizer, data)
for split, scores in metrics.items():
    print(split, "\n" + format_scores(scores))
display(HTML(compare_html(rows, n=4, split="test")))

# %% [markdown]
# ## 5 · The run folder
# Metrics, predictions, the training log and learning curve, and the model (loadable with plain
# transformers or `seqlab-spec predict`).

# %%
from seqlab_spec.evaluation.plots import learning_curve
from seqlab_spec.training.train import log_history

metrics = tagger.save(spec, run_dir, trainer.model, tokenizer, trainer, metrics, rows, time.time() - T0)
learning_curve(log_history(trainer), title=spec.name)
print(sorted(p.name for p in run_dir.iterdir()))
