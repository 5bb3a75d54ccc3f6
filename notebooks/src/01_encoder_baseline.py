# %% [markdown]
# # 01 · The encoder baseline: token classification, step by step
#
# Every method in this kit is measured against this baseline: a pre-trained **encoder** (BERT-style: every
# word sees the whole sentence, left and right) with a linear layer that labels each word. We open up each
# step of the pipeline: how words become subwords and back, what the model is trained on, and what span F1
# counts. At the end, two exercises.

# %% include: _colab_setup.py

# %%
# Device check: a GPU gets the GPU-size spec (a large encoder from the hub), a CPU the small one.
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

# %%
from seqlab_spec.notebook import default_spec, resolve_params

spec_path, overrides = default_spec(spec_path, overrides, cpu="encoder_wnut17_cpu", gpu="encoder_wnut17_gpu")
spec, run_dir = resolve_params(spec, spec_path, run_dir, overrides)
from seqlab_spec.machine import check_fits

FIT = check_fits(spec, DEVICE)  # from the model's config, before any weights load: stops here if they cannot fit

# %% [markdown]
# ## 1 · Sentences and BIO labels
# The reader turns column files into sentences of words with labels. Inside the library every label
# sequence is BIO (IOB2); IOB1 and IOBES files are converted on the way in and back on the way out.

# %%
from IPython.display import HTML, display

from seqlab_spec.notebook import first_labeled, spans_html
from seqlab_spec.pipelines import tagger

data = tagger.prepare_data(spec)
example = data.splits["train"][first_labeled(data.splits["train"])]  # the first training sentence with a span
print(list(zip(example.tokens, example.tags)))
display(HTML(spans_html(example.tokens, example.tags)))

# %% [markdown]
# ## 2 · Words → subwords, labels → first subwords
# The tokenizer splits rare words into several subwords. We put each word's label on its **first** subword
# and `-100` on the others and on special tokens: PyTorch's cross-entropy ignores `-100`, so every word is
# trained exactly once. At prediction time the first subword's label is the word's label.

# %%
from seqlab_spec.notebook import alignment_table

model, tokenizer = tagger.build_model(spec, data.labels)
display(HTML(alignment_table(tokenizer, example.tokens, example.tags, spec.train.max_length)))

# %% [markdown]
# ## 3 · Fine-tuning
# transformers' Trainer runs the loop: dynamic padding, length-grouped batches (less padding, faster),
# bf16 autocast where the hardware has it, dev F1 after each epoch and the best checkpoint kept.

# %%
trainer = tagger.fit(spec, model, tokenizer, data, run_dir)

# %% [markdown]
# ## 4 · Span F1, strict on the raw tags
# A predicted span is a true positive only when start, end **and** type match a gold span; a span one word
# too long is both a false positive and a false negative. Precision = TP / predicted spans, recall = TP /
# gold spans. Micro F1 pools all types; macro F1 averages the per-type F1.
#
# Which spans does a tag sequence hold? The headline (`eval.mode: strict`, the thesis's metric) is seqeval's
# `mode="strict", scheme=IOB2` on the model's **raw** tags: `O I-PER I-PER` holds no span, since a span opens
# with `B-`. seqeval's default mode (conlleval) reads that `I-PER` as opening one. The table names the reading
# it shows and gives the other one's micro F1 under it; metrics.json holds both; the numbers equal seqeval's.

# %%
from seqlab_spec.evaluation.scores import format_scores
from seqlab_spec.notebook import compare_html

metrics, rows = tagger.evaluate(spec, trainer.model, tokenizer, data)
for split, scores in metrics.items():
    print(split, "\n" + format_scores(scores))
display(HTML(compare_html(rows, n=5, split="test", errors=True)))  # the first 5 test sentences with an error

# %%
from seqlab_spec.evaluation.plots import learning_curve
from seqlab_spec.training.train import log_history

metrics = tagger.save(spec, run_dir, trainer.model, tokenizer, trainer, metrics, rows, time.time() - T0)
learning_curve(log_history(trainer), title=spec.name)

# %% [markdown]
# ## Exercises
# ### Exercise 1 · IOB1 → BIO
# In IOB1 (the original CoNLL-2003 files) a span starts with `I-`; `B-` appears only when a span directly
# follows another span of the same type. Write `iob1_to_bio(tags)` returning BIO tags.

# %%
def iob1_to_bio(tags: list[str]) -> list[str]:
    # TODO: your code here
    raise NotImplementedError("Exercise 1: convert IOB1 tags to BIO")

# %% tags=["solution"]
if solutions:
    def iob1_to_bio(tags: list[str]) -> list[str]:
        out, prev = [], "O"
        for tag in tags:
            if tag.startswith("I-") and (prev == "O" or prev[2:] != tag[2:]):
                tag = "B-" + tag[2:]
            out.append(tag)
            prev = tag
        return out

# %% tags=["check"]
from seqlab_spec.data.schemes import to_bio
from seqlab_spec.notebook import check

case = ["I-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-LOC", "I-ORG"]
check(iob1_to_bio(case) == ["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC", "B-ORG"], "IOB1 -> BIO on a tricky case")
check(iob1_to_bio(case) == to_bio(case, "iob1")[0], "agrees with the library's converter")

# %% [markdown]
# ### Exercise 2 · Span F1 by hand
# Gold: `B-PER I-PER O B-LOC O B-ORG`; predicted: `B-PER O O B-LOC B-ORG I-ORG`. Count the true positives,
# predicted and gold spans, and set `my_f1` to the micro F1 (a float).

# %%
# TODO: set my_f1
my_f1 = None

# %% tags=["solution"]
if solutions:
    # gold spans: PER(0,2) LOC(3,4) ORG(5,6); predicted: PER(0,1) LOC(3,4) ORG(4,6) -> 1 TP of 3 and 3
    my_f1 = 2 * (1 / 3) * (1 / 3) / (1 / 3 + 1 / 3)

# %% tags=["check"]
from seqlab_spec.evaluation.scores import span_scores

gold = [["B-PER", "I-PER", "O", "B-LOC", "O", "B-ORG"]]
pred = [["B-PER", "O", "O", "B-LOC", "B-ORG", "I-ORG"]]
check(my_f1 is not None and abs(my_f1 - span_scores(gold, pred)["micro"]["f1"]) < 1e-9, "span F1 by hand")
