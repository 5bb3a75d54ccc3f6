# %% [markdown]
# # 02 · Domain transfer of event trigger detection, mediated by Open Information Extraction
#
# An **event trigger** is the word that most clearly expresses an event: *walked*, *attack*, *resigned*. A
# tagger trained on one domain (novels: LitBank) loses much of its F1 on another (news: TempEval-3): the
# vocabulary, the style and even what annotators call an event shift. Dukić et al. (EACL 2024 Findings) couple
# trigger detection with the **relations** of an Open Information Extraction (OIE) system. OIE reads
# `(subject; relation; object)` triples off any text with the same domain-independent rules, and relations
# sit close to where triggers sit, in both domains: a bridge between them.
#
# Two ways to use the relations (`method.injection`):
# - **implicit**: each word's relation tag (O / B-REL / I-REL) is embedded and concatenated to the encoder's
#   states before the trigger head, as an input, at training *and* test time (the extractor runs on any text);
# - **explicit**: a second head predicts the relation tags from the shared encoder, a multi-task loss; at test
#   time only the trigger head is read.
# `none` is the vanilla tagger. Regimes: **zero-shot** (no target labels at all), **few-shot** (then continue
# on k target sentences), **joint** (source and the k sentences together), **in-domain** (the reference).

# %% include: _colab_setup.py

# %%
# Device check: on a CPU, stepping through by hand trains on part of LitBank (a few minutes); a GPU takes it all.
import time

from seqlab_spec.machine import device_summary

T0 = time.time()
DEVICE = device_summary()

# %% tags=["parameters"]
spec = None  # injected by `seqlab-spec run` (the resolved spec as a dict)
spec_path = None  # None: the shipped oie_litbank_to_tempeval.yaml
run_dir = None
overrides = []  # dotted spec overrides, e.g. ["train.epochs=1"] (a grader sets its own)
solutions = False  # True fills in the exercises with the reference solutions
compare_train = 800  # source sentences for the side-by-side comparison of section 6
compare_ks = [10, 50, 100]  # few-shot sizes in the comparison
compare_seeds = [42]  # one seed per cell keeps it to minutes; the benchmark uses three

# %%
from seqlab_spec.notebook import default_spec, resolve_params

# by hand on a CPU (no overrides given): a quarter of LitBank, one epoch
spec_path, overrides = default_spec(
    spec_path, overrides, cpu="oie_litbank_to_tempeval", cpu_overrides=["data.limit.train=1500", "train.epochs=1"]
)
spec, run_dir = resolve_params(spec, spec_path, run_dir, overrides)
from seqlab_spec.machine import check_fits

FIT = check_fits(spec, DEVICE)  # from the model's config, before any weights load: stops here if they cannot fit
print(f"regime {spec.method.regime}, injection {spec.method.injection}, k {spec.method.k}")
from seqlab_spec.pipelines.oie_compare import check_two_domains

check_two_domains(spec)  # this notebook shows relation tags in two domains: stops here, saying what to set

# %% [markdown]
# ## 1 · Two domains
# `data` is the **source** domain, `data.target` the **target**. The pipeline reads both, lays out the training
# stages of the regime and says which split selects the model: never a target one, since a target dev set
# big enough to choose epochs would itself be labeled target data.

# %%
from IPython.display import HTML, Markdown, display

from seqlab_spec.pipelines import oie, oie_compare

data = oie.prepare_data(spec)
print(oie_compare.data_summary(data))

# %% [markdown]
# ## 2 · OIE triples and relation tags, next to the gold triggers
# The extractor parses each sentence with spaCy (as the dataset tokenized it) and applies rules per predicate.
# Triples become tags following the paper's recipe: keep triples whose three slots are non-empty, contiguous
# and in subject-relation-object order, merge them if they do not overlap, and keep only the **relation** as
# B-REL/I-REL. Look at where relations and triggers coincide, and where they do not (a trigger noun such as
# *attack*, or a relation *was found in* around the trigger *found*).

# %%
display(HTML(oie_compare.domain_html(spec, data, n=3)))

# %% [markdown]
# ## 3 · How much do relations and triggers overlap, per domain?
# Before any training: relation spans read as trigger predictions (strict span P/R/F1, boundaries only), and
# two looser views: the share of trigger words inside a relation, the share of relations holding a trigger.
# The bridge works if these figures are of similar size in both domains.

# %%
from seqlab_spec.signals.overlap import format_overlap

display(Markdown(format_overlap(data.overlap)))

# %% [markdown]
# ## 4 · The model
# One encoder, one trigger head. Implicit injection feeds each subword its word's relation tag (special tokens
# get a padding id whose embedding is zero); explicit injection trains a relation head on first subwords.

# %%
from seqlab_spec.notebook import trainable_parameters

model, tokenizer = oie.build_model(spec, data.labels)
example = data.splits["source_train"][0]
feat = oie.features(oie.with_method(spec, injection="implicit"), tokenizer, data, [example])[0]
print(list(zip(tokenizer.convert_ids_to_tokens(feat["input_ids"]), feat["rel_tags"], feat["labels"])))
print(model.injection, "trainable parameters:", trainable_parameters(model))

# %% [markdown]
# ## 5 · Train and evaluate the spec's run
# Every stage of the regime in turn; then span F1 on every dev/test split of both domains, in the headline
# reading (`eval.mode`, default strict: seqeval's strict IOB2 on the raw tags; the conlleval reading beside it).
# `dev` is the selection split (source dev), `test` the regime's test (target test unless in-domain).

# %%
fitted = oie.fit(spec, model, tokenizer, data, run_dir)
metrics, rows = oie.evaluate(spec, fitted.model, tokenizer, data)
from seqlab_spec.notebook import split_f1_lines

print(split_f1_lines(metrics, data.eval_splits))
metrics = oie.save(spec, run_dir, fitted.model, tokenizer, fitted, metrics, rows, time.time() - T0)

# %%
from seqlab_spec.notebook import compare_html

display(HTML(compare_html(rows, n=5, split=data.test_split, errors=True)))  # the first 5 test sentences with an error

# %% [markdown]
# ## 6 · Vanilla vs implicit vs explicit: zero-shot and few-shot
# Small settings so it runs in minutes on a CPU: `compare_train` source sentences, the k values of
# `compare_ks`. For each injection the source model is trained once (the zero-shot point, k = 0); each
# few-shot point continues a copy of it on k target sentences with a trigger and keeps the last weights.
# With one seed, differences of a point or two are noise: `benchmarks/oie_transfer.py` runs three.

# %%
curve = oie_compare.small_curve(spec, data, run_dir / "compare", compare_train, ks=compare_ks, seeds=compare_seeds)
display(Markdown(oie_compare.curve_table(curve)))

# %% [markdown]
# The same as a curve: mean target F1 against k, error bars ± one standard deviation over the seeds (none with
# one seed). It is saved in the run folder as `few_shot_curve.png`.

# %%
from seqlab_spec.evaluation.plots import few_shot_curve

few_shot_curve(oie_compare.summarize(curve), run_dir / "few_shot_curve.png")

# %% [markdown]
# ## Exercises
# ### Exercise 1 · A triple as BIO relation tags
# A `Triple` holds word indices: `subject`, `relation`, `object`. Write `relation_bio(n_words, triple)`: `B-REL`
# on the first relation word, `I-REL` on the others, `O` everywhere else.

# %%
from seqlab_spec.signals.oie import Triple


def relation_bio(n_words: int, triple: Triple) -> list[str]:
    # TODO: your code here
    raise NotImplementedError("Exercise 1: tag the relation words of the triple")

# %% tags=["solution"]
if solutions:
    def relation_bio(n_words: int, triple: Triple) -> list[str]:
        tags = ["O"] * n_words
        for k, i in enumerate(triple.relation):
            tags[i] = "B-REL" if k == 0 else "I-REL"
        return tags

# %% tags=["check"]
from seqlab_spec.notebook import check
from seqlab_spec.signals.reltags import relation_tags_for

words = "The council has not approved the new budget .".split()
t = Triple(subject=(0, 1), relation=(2, 3, 4), object=(5, 6, 7))
check(relation_bio(len(words), t) == ["O", "O", "B-REL", "I-REL", "I-REL", "O", "O", "O", "O"], "the relation span")
check(relation_bio(len(words), t) == relation_tags_for(len(words), [t]), "agrees with the library on a valid triple")

# %% [markdown]
# ### Exercise 2 · Add a rule, watch the overlap change
# The recipe drops a triple without an object, so *"The minister resigned ."* gets no relation at all, though
# *resigned* is a trigger. Write `relation_tags_v2(n_words, triples)`: the library's tags
# (`relation_tags_for`), plus the relation of every triple that has a subject but no object, where its
# (contiguous) relation words are all still `O`. Then compare the overlap with the gold triggers.

# %%
def relation_tags_v2(n_words: int, triples: list[Triple]) -> list[str]:
    # TODO: your code here
    raise NotImplementedError("Exercise 2: keep the relations of subject-only triples")

# %% tags=["solution"]
if solutions:
    def relation_tags_v2(n_words: int, triples: list[Triple]) -> list[str]:
        tags = relation_tags_for(n_words, triples)
        for t in triples:
            rel = list(t.relation)
            contiguous = rel == list(range(rel[0], rel[-1] + 1)) if rel else False
            if t.subject and rel and not t.object and contiguous and all(tags[i] == "O" for i in rel):
                for k, i in enumerate(rel):
                    tags[i] = "B-REL" if k == 0 else "I-REL"
        return tags

# %% tags=["check"]
from seqlab_spec.signals.oie import extract
from seqlab_spec.signals.overlap import overlap_by_domain

demo = "The minister resigned on Friday .".split()
(demo_triples,) = extract([demo], pipeline=spec.signal.pipeline, progress=False)
check(relation_tags_v2(len(demo), demo_triples)[2] == "B-REL", "'resigned' is now a relation")
target = data.splits["target_test"]
target_triples = extract([s.tokens for s in target], pipeline=spec.signal.pipeline, progress=False)
new_tags = [relation_tags_v2(len(s), ts) for s, ts in zip(target, target_triples)]
table = overlap_by_domain({"target, recipe": (target, data.rel_tags(target)), "target, + rule": (target, new_tags)})
display(Markdown(format_overlap(table)))
check(
    table["target, + rule"]["trigger_tokens_in_relation"] >= table["target, recipe"]["trigger_tokens_in_relation"],
    "the new rule covers at least as many trigger words",
)
print(f"notebook finished in {time.time() - T0:.0f} s")
