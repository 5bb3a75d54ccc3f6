# %% [markdown]
# # 04 · SIFT: label spans by *writing* them, and choose which tokens the loss sees
#
# So far a model labeled every word with a classifier head. Here a decoder LLM **generates** the answer
# instead: we show it an instruction, a few labeled **demonstrations** and the **query** sentence, and it
# writes the query's spans as text (`EU :: ORG`). Fine-tuning the model on such prompts is *supervised
# in-context fine-tuning* (SIFT; Dukić, Glavaš & Šnajder, 2025).
#
# The question of this chapter: **which tokens of the prompt should carry the training loss?**
#
# - `vanilla`: every token, as in ordinary language-model training (the model also learns to write the
#   instruction and the sentences it is given);
# - `src`: only the query's response (what we want the model to produce);
# - `mrc`: the responses of every demonstration *and* the query (more supervised answers per prompt, at no
#   extra cost: the demonstrations are in the prompt anyway).
#
# We build a prompt, colour its loss tokens under each strategy, train with the spec's strategy, read what
# the model writes and how the parser maps text back to spans, and compare the three strategies.

# %% include: _colab_setup.py

# %%
# Device check: a GPU gets the GPU-size spec (a 7B model in 4-bit, QLoRA), a CPU the SmolLM2-135M one.
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
compare = None  # train all three strategies in section 6; None: only when stepping through by hand
compare_settings = None  # dotted overrides for those runs; None: a few minutes' worth on this device

# %%
from seqlab_spec.notebook import default_spec, resolve_params

launched = spec is not None  # `seqlab-spec run` injected the spec: this notebook is one run of it
spec_path, overrides = default_spec(spec_path, overrides, cpu="sift_wnut17_cpu", gpu="sift_conll03_gpu")
spec, run_dir = resolve_params(spec, spec_path, run_dir, overrides)
from seqlab_spec.machine import check_fits

FIT = check_fits(spec, DEVICE)  # from the model's config, before any weights load: stops here if they cannot fit
if compare is None:
    compare = not launched
print(f"loss strategy: {spec.loss_strategy}; k = {spec.method.k} demonstrations ({spec.method.selection})")

# %% [markdown]
# ## 1 · Sentences, and the demonstration pool
# The data are read as in every chapter (BIO inside). The **training split is also the pool of
# demonstrations**: for a training sentence we draw its k demonstrations from the *rest* of the split (never
# the sentence itself, or the answer would be in the prompt); for a dev/test sentence from the whole split.

# %%
from IPython.display import HTML, display

from seqlab_spec.notebook import first_labeled, spans_html
from seqlab_spec.pipelines import sift

data = sift.prepare_data(spec)
train = data.splits["train"]
print(f"{len(train)} training sentences; span types: {', '.join(data.labels.types)}")
query_index = first_labeled(train)  # the first training sentence with a span
query = train[query_index]
display(HTML(spans_html(query.tokens, query.tags)))

# %% [markdown]
# ## 2 · One full prompt
# An instruction (task and label set), k demonstrations (sentence + response), then the query. Each response
# lists the spans one per line, `words :: LABEL` (or `none`), and ends with the tokenizer's end-of-sequence
# token: at inference, generation stops there. The model sees exactly this text in training; at inference
# the text is cut right after the query's `Entities:` and the model writes the rest.

# %%
from seqlab_spec.sift import build_prompt

model, tokenizer = sift.build_model(spec, data.labels)
cfg = sift.prompt_config(spec, data.labels, tokenizer)
selector = sift.selector_for(spec, train)
demos = [train[j] for j in selector.select(query_index, spec.method.k)]
prompt = build_prompt(query, demos, cfg, tokenizer)
print(prompt.text)
print("\n--- at inference the model continues from:", repr(prompt.generation_prompt[-40:]))

# %% [markdown]
# ## 3 · Which tokens carry the loss
# The loss masks come from character ranges of the prompt's pieces, mapped to tokens through the
# tokenizer's offsets (so they hold for any tokenizer). Red tokens carry loss, grey ones are only read.
# Look at how many tokens each strategy trains on: `vanilla` spends most of its signal on copying the
# instruction and sentences; `src` trains on a handful of tokens per prompt; `mrc` on every response.

# %%
from seqlab_spec.sift.view import loss_html

for strategy in ("vanilla", "src", "mrc"):
    display(HTML(loss_html(prompt, tokenizer, strategy)))

# %% [markdown]
# ## 4 · Fine-tuning with the spec's strategy
# One prompt per training sentence, LoRA adapters on the decoder, the loss masked as above (labels `-100`
# elsewhere). There is **no dev evaluation during training**: scoring means generating, which costs far more
# than a training step on a CPU; dev and test are scored once, at the end.

# %%
trainer = sift.fit(spec, model, tokenizer, data, run_dir)

# %% [markdown]
# ## 5 · Generate, parse, score
# Greedy generation, batched (left padding), with demonstrations from the training split. The **parser**
# maps each generated line to a span of the sentence: the i-th line with the same words is their i-th
# occurrence (a line can name its occurrence after the label, `saw :: EVENT #2`, which the gold responses
# do where a word repeats and only a later one is a span; in the inline format a span sits where its
# bracket is). It never raises; it counts what it cannot place: `malformed` (no `::`), `unknown_label`,
# `not_in_sentence` (words the sentence does not have), `repeated`, `overlapping`, and `unfinished`
# generations (cut by the token bound). The spans become BIO tags (always valid BIO, so the strict and
# conlleval readings agree here), scored as every other method's.

# %%
from seqlab_spec.evaluation.scores import format_scores

metrics, rows = sift.evaluate(spec, trainer.model, tokenizer, data)
for split, scores in metrics.items():
    print(split, "\n" + format_scores(scores))
    print("parser:", scores["parser"], "| generation:", scores["generation"])

# %% [markdown]
# What the model wrote, next to gold, with the parser's decisions (✓: the parsed spans equal gold):

# %%
from seqlab_spec.sift.view import parser_table_html

shown = "test" if "test" in metrics else next(iter(metrics))
gold = data.splits[shown]
texts = [r["generated"] for r in rows if r["split"] == shown]
display(HTML(parser_table_html(gold, texts, cfg.fmt, cfg.labels, cfg.none_word, n=8)))

# %% [markdown]
# ### Constrained decoding
# Free decoding lets the model write anything; the parser then drops what it cannot place. With
# `method.decoding: constrained` a logits processor allows, at each step, only the tokens that keep the
# answer a valid response for *this* query: span words that are a run of the sentence's words at an unused
# position, a known label, the separators, the none word, and the end token once the answer is complete. So
# every answer parses. It is not free F1: where the model wanted a line the parser would have dropped (a word
# not in the sentence, a repeat), the constraint makes it write the likeliest *valid* line instead, often a
# wrong span. On CoNLL-2003 (BENCHMARKS.md, "free vs constrained") it lowered precision in every cell and kept
# or raised recall in 7 of 8: F1 rose for vanilla and fell a little for src and mrc, so `free` stays the default.
# Below: one test answer decoded both ways, then the model's likeliest *first* tokens with the ones the
# processor masks.

# %%
from seqlab_spec.sift.decode import build_eval_prompts, generate, grammars_for, max_new_tokens_for
from seqlab_spec.sift.view import first_step_html

one = [gold[0]]
one_prompt = build_eval_prompts(one, selector, spec.method.k, cfg, tokenizer, spec.method.token_budget)
bound = max_new_tokens_for(len(one[0].tokens), spec.method.max_new_tokens)  # as the evaluation bounds it
free_text = generate(trainer.model, tokenizer, one_prompt, bound)[0]
constrained_text = generate(trainer.model, tokenizer, one_prompt, bound, grammars=grammars_for(one, cfg, tokenizer))[0]
print("sentence:   ", " ".join(one[0].tokens))
print("free:       ", repr(free_text))
print("constrained:", repr(constrained_text))
display(HTML(first_step_html(trainer.model, tokenizer, one_prompt[0], one[0], cfg)))

# %% [markdown]
# Save the run: metrics (with the parser's counts per split), predictions (with the generated text), the
# training log and curve, and `model/`: the LoRA adapter, the tokenizer, `sift.json` (labels and prompt
# settings) and `demos.jsonl` (the demonstration pool), which is all `seqlab-spec predict` needs.

# %%
from IPython.display import Image

from seqlab_spec.runner.rundir import RUN_FILES

metrics = sift.save(spec, run_dir, trainer.model, tokenizer, trainer, metrics, rows, time.time() - T0, data)
display(Image(filename=str(run_dir / RUN_FILES["curve"])))

# %% [markdown]
# ## 6 · vanilla vs src vs mrc
# The same data, steps, k and seed; only the loss strategy changes. Each run is an ordinary run folder
# (under this run's `strategies/`), compared by the same report as `seqlab-spec report`. With the small
# CPU settings the differences are noisy: read them as a demonstration, and run the strategy sweep spec
# (`specs/sift_conll03_strategies_cpu.yaml`) or the GPU spec for figures. About 10 minutes on 2 CPU cores.
# Skipped when `seqlab-spec run` executes this notebook (there a spec's `sweep:` runs the strategies as
# separate runs); stepping through by hand it runs (set `compare = False` above to skip it).

# %%
from IPython.display import Markdown

from seqlab_spec.runner.execute import run_spec
from seqlab_spec.notebook import comparison

if compare:
    settings = sift.COMPARE_DEFAULTS[DEVICE] if compare_settings is None else compare_settings
    strategies = sift.strategy_sweep(spec, settings)
    strategy_runs = run_spec(strategies, run_dir / "strategies", use_notebook=False)
    display(Markdown(comparison(strategy_runs, run_dir / "strategies_f1.png", "span F1 per loss strategy")))
    display(Image(filename=str(run_dir / "strategies_f1.png")))

# %% [markdown]
# ## Exercises
# ### Exercise 1 · The MRC mask
# Write `mrc_labels(encoded, prompt)`: the token id where the token overlaps any response range (every
# demonstration's, `prompt.demo_responses`, and the query's, `prompt.query_response`; each a `(start, end)`
# character range), `-100` elsewhere. `encoded.input_ids` and `encoded.offsets` (one `(start, end)` per
# token) come from `seqlab_spec.sift.encode`. A token `(s, e)` overlaps `(lo, hi)` when `s < hi and e > lo`;
# a zero-width token (`s == e`, e.g. a BOS the tokenizer adds) counts only when strictly inside.

# %%
def mrc_labels(encoded, prompt) -> list[int]:
    # TODO: your code here
    raise NotImplementedError("Exercise 1: build the MRC labels")

# %% tags=["solution"]
if solutions:
    def mrc_labels(encoded, prompt) -> list[int]:
        ranges = [*prompt.demo_responses, prompt.query_response]

        def inside(s: int, e: int) -> bool:
            if s == e:
                return any(lo < s < hi for lo, hi in ranges)
            return any(s < hi and e > lo for lo, hi in ranges)

        return [t if inside(s, e) else -100 for t, (s, e) in zip(encoded.input_ids, encoded.offsets)]

# %% tags=["check"]
from seqlab_spec.notebook import check
from seqlab_spec.sift import build_labels, encode

encoded = encode(prompt, tokenizer)
check(mrc_labels(encoded, prompt) == build_labels(encoded, prompt, "mrc"), "MRC labels of the prompt above")
other = build_prompt(train[-1], train[:2], cfg, tokenizer)
check(mrc_labels(encode(other, tokenizer), other) == build_labels(encode(other, tokenizer), other, "mrc"),
      "MRC labels of another prompt")

# %% [markdown]
# ### Exercise 2 · A parser for the inline format
# The other response format copies the sentence and brackets each span: `[EU|ORG] rejects [German|MISC]
# call`. Write `parse_inline(text, tokens, labels)` returning `(start, end, label)` word spans, sorted: take
# every `[words|LABEL]` group (the words may contain spaces; split the group at its last `|`), skip a label
# not in `labels`, and place the words at their first occurrence in `tokens` that no earlier span uses (skip
# the group if there is none).

# %%
def parse_inline(text: str, tokens: list[str], labels) -> list[tuple[int, int, str]]:
    # TODO: your code here
    raise NotImplementedError("Exercise 2: parse the inline format")

# %% tags=["solution"]
if solutions:
    import re

    def parse_inline(text: str, tokens: list[str], labels) -> list[tuple[int, int, str]]:
        used = [False] * len(tokens)
        out = []
        for group in re.findall(r"\[([^\[\]]*)\]", text):
            words, sep, label = group.rpartition("|")
            words = words.split()
            if not sep or not words or label.strip() not in labels:
                continue
            n = len(words)
            for i in range(len(tokens) - n + 1):
                if tokens[i : i + n] == words and not any(used[i : i + n]):
                    used[i : i + n] = [True] * n
                    out.append((i, i + n, label.strip()))
                    break
        return sorted(out)

# %% tags=["check"]
from seqlab_spec.sift import parse

cases = [
    ("[EU|ORG] rejects [German|MISC] call to boycott [British|MISC] lamb .",
     "EU rejects German call to boycott British lamb ."),
    ("[New York|LOC] and [New York|LOC] met [Paris|PERSON] in [Rome|LOC]", "New York and New York met Paris"),
    ("[John Smith|PER] met [Mary|PER] in [Paris|LOC] .", "John Smith met Mary in Paris ."),
    ("no spans at all", "no spans at all"),
]
for text, sentence in cases:
    words = sentence.split()
    expected = parse(text, words, "inline", ["LOC", "MISC", "ORG", "PER"]).spans
    check(parse_inline(text, words, ["LOC", "MISC", "ORG", "PER"]) == expected, f"inline parse of {text[:30]!r}")

# %% [markdown]
# ### Exercise 3 · Which first tokens does constrained decoding allow?
# In the `lines` format (plain template) a response starts with a space, then either the none word or a
# first line `words :: LABEL`, where `words` are consecutive words of the sentence joined by single spaces.
# Write `may_start(piece, tokens, labels, none_word)`: True when the text `piece` (what one token writes,
# e.g. `" JAP"`) is the beginning of such a response: a prefix of `" " + none_word` or of
# `" " + " ".join(tokens[i:j]) + " :: " + label` for some `i < j` and label. These are the tokens the
# processor leaves at the first step (the table above).

# %%
def may_start(piece: str, tokens: list[str], labels, none_word: str = "none") -> bool:
    # TODO: your code here
    raise NotImplementedError("Exercise 3: the allowed first pieces")

# %% tags=["solution"]
if solutions:
    def may_start(piece: str, tokens: list[str], labels, none_word: str = "none") -> bool:
        starts = [" " + none_word]
        for i in range(len(tokens)):
            for j in range(i + 1, len(tokens) + 1):
                starts += [f" {' '.join(tokens[i:j])} :: {label}" for label in labels]
        return any(s.startswith(piece) for s in starts)

# %% tags=["check"]
from seqlab_spec.sift.grammar import grammar_for

words = "EU rejects German call to boycott British lamb .".split()
grammar = grammar_for(words, "lines", ["MISC", "ORG"], "none", chat=False)


def reference(piece: str) -> bool:
    state = grammar.start()
    for b in piece.encode():
        state = grammar.step(state, b)
        if not state:
            return False
    return True


pieces = [" EU", " E", "EU", " none", " no", " EU ::", " EU :: O", " Paris", " German call", " call  to", " ."]
pieces += [tokenizer.decode([i]) for i in range(min(len(tokenizer), 2000))]
wrong = [p for p in pieces if may_start(p, words, ["MISC", "ORG"]) != reference(p)]
check(not wrong, f"{len(pieces)} first pieces (wrong on: {wrong[:5]})")

# %%
print(f"notebook finished in {time.time() - T0:.0f} s; run folder: {run_dir}")
