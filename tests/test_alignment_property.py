"""Every word that has a subword gets its own first subword, for the three tokenizer families a user meets:
WordPiece (MiniLM), byte-level BPE (SmolLM2) and SentencePiece (a Metaspace BPE built here with `tokenizers`).

"Its own" means: the subword's characters (past a separating space) lie inside that word, and it is not a bare
space marker ("Ġ", "▁") that a causal model would read before it has seen the word. Words the tokenizer turns
into nothing (zero-width characters, a soft hyphen) are told apart from words cut by max_length.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqlab_spec.data.encoding import encode_words
from seqlab_spec.models.registry import load_tokenizer, resolve

SPACE_MARKS = "\u2581\u0120 "


def _sentencepiece():
    from tokenizers import SentencePieceBPETokenizer
    from transformers import PreTrainedTokenizerFast

    sp = SentencePieceBPETokenizer(unk_token="<unk>")
    corpus = ["The cat sat on the mat in Tokyo 東京 on 1,000.50 days.", "Zagreb visited Dukić yesterday, café naïve"]
    sp.train_from_iterator(corpus * 20, vocab_size=120, special_tokens=["<unk>", "<pad>"], show_progress=False)
    return PreTrainedTokenizerFast(tokenizer_object=sp._tokenizer, unk_token="<unk>", pad_token="<pad>")


@pytest.fixture(scope="module", params=["wordpiece", "byte-bpe", "sentencepiece"])
def tokenizer(request):
    if request.param == "sentencepiece":
        return _sentencepiece()
    return load_tokenizer(resolve({"wordpiece": "minilm-l6", "byte-bpe": "smollm2-135m"}[request.param]))


ODD = ["", " ", "  ", "\u200b", "\u200d", "\ufe0f", "\u00ad", "\u00a0", "\u0301", "e\u0301", "👍🏽", "🇭🇷", "東京",
       "1,000.50", "-3.5%", "U.S.", ":)", "#WNUT17", "Dukić", "New York"]
word = st.one_of(
    st.sampled_from(ODD),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=5),
    st.text(st.sampled_from("ab1,. \u200b\u0301東👍"), max_size=4),
)


def check(tokenizer, words: list[str]) -> None:
    enc = encode_words(tokenizer, words, max_length=4096)
    text = " ".join(words)
    starts = [sum(len(w) + 1 for w in words[:i]) for i in range(len(words))]
    offsets = tokenizer(text, return_offsets_mapping=True)["offset_mapping"]
    pieces = tokenizer.convert_ids_to_tokens(enc.input_ids)
    firsts: dict[int, int] = {}
    for pos, (w, (s, _e), piece) in enumerate(zip(enc.word_ids, offsets, pieces, strict=True)):
        if w is None:
            continue
        firsts.setdefault(w, pos)
        while text[s] == " ":
            s += 1
        # the subword's first non-space character is one of the word's own characters
        assert starts[w] <= s < starts[w] + len(words[w]), (words, w, piece)
        if firsts[w] == pos:
            assert piece.strip(SPACE_MARKS), (words, w, piece)  # not a bare space marker
    for i, w in enumerate(words):
        if not w.strip(" "):
            assert i not in firsts and i in enc.no_subword  # an empty or all-space word never takes a subword
    assert sorted([*firsts, *enc.no_subword]) == list(range(len(words)))
    assert enc.truncated == 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(word, min_size=1, max_size=8))
def test_every_word_with_a_subword_gets_its_own_first_subword(tokenizer, words):
    check(tokenizer, words)


def test_the_reported_cases(tokenizer):
    # an empty word between two words: "b" keeps its own first subword, the empty word has none
    enc = encode_words(tokenizer, ["a", "", "b"], 64)
    assert enc.no_subword == (1,) and enc.truncated == 0
    check(tokenizer, ["a", "", "b"])
    # zero-width and invisible characters: no subword (WordPiece) or their own bytes (BPE), never truncation
    words = ["Lima", "\u200b", "x", "\u200d", "\ufe0f", "\u00ad", "\u007f"]
    enc = encode_words(tokenizer, words, 512)
    assert enc.truncated == 0
    check(tokenizer, words)


def test_wordpiece_drops_invisible_words_and_counts_them_apart_from_truncation():
    tok = load_tokenizer(resolve("minilm-l6"))
    words = ["Lima", "\u200b", "x", "\u200d", "\ufe0f", "\u00ad", "\u007f"]
    enc = encode_words(tok, words, 512)
    assert (enc.no_subword, enc.truncated) == ((1, 3, 4, 5, 6), 0)
    # cut by max_length: [CLS] Lima [SEP] keeps only word 0; x is truncated, the invisible ones are not
    enc = encode_words(tok, words, 3)
    assert (enc.no_subword, enc.truncated) == ((1, 3, 4, 5, 6), 1)
