"""Leak tests: what a changed token can reach, layer by layer, for every arch under eager and SDPA;
padding invariance, sliding windows, re-applying, peft, gradient checkpointing, refusals, and the
DecoderTagger (loss, save/load, LoRA, Trainer)."""

from __future__ import annotations

import copy
import itertools
import json

import pytest
import torch
from tiny_models import (
    ARCH_ATTN,
    ARCHS,
    ATTN_IMPLS,
    single_thread,
    sliding_overrides,
    tiny_base_model,
    tiny_causal_lm,
)
from transformers import AutoModel, AutoModelForCausalLM, DynamicCache
from unmask_hooks import current_pattern, mask_geometry, remove_unmask, restore_unmask

from seqlab_spec.errors import ModelError
from seqlab_spec.models.decoder_tagger import DecoderTagger, ensure_pad_token, wrap_lora
from seqlab_spec.models.unmask import apply_unmask, bidirectional_attention_matrix, find_decoder_body, layer_flags

SEQ = 10
ALL_PATTERNS = ["".join(bits) for bits in itertools.product("01", repeat=4)] + ["01", "10", "1", "0"]
MIXED = ["0110", "1001", "0101"]  # every layer is 0 in one pattern and 1 in another
SLIDING_ARCHS = [a for a in ARCHS if sliding_overrides(a, 3) is not None]
LABELS = ["O", "B-PER", "I-PER"]


@pytest.fixture(autouse=True)
def _one_thread():
    with single_thread():
        yield


def _ids(seed: int, batch: int = 1, seq: int = SEQ) -> torch.Tensor:
    return torch.randint(3, 64, (batch, seq), generator=torch.Generator().manual_seed(seed))


def _padded(lengths: tuple[int, ...], seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A right-padded batch of random sentences of these lengths (pad id 0)."""
    ids = _ids(seed, len(lengths), max(lengths))
    mask = torch.zeros_like(ids)
    for row, n in enumerate(lengths):
        mask[row, :n] = 1
        ids[row, n:] = 0
    return ids, mask


def _layers_out(model, ids, mask=None) -> list[torch.Tensor]:
    """Each decoder layer's output (the last one after the final norm, which is per position)."""
    with torch.no_grad():
        return list(model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states[1:])


def _logits(model, ids, mask=None) -> torch.Tensor:
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask).logits


# ---- all zeros is the stock model; all ones is transformers' own bidirectional mode -----------------


@pytest.mark.parametrize(("arch", "impl"), ARCH_ATTN)
def test_zero_pattern_equals_the_untouched_model(arch, impl):
    model = tiny_causal_lm(arch, attn_implementation=impl)
    ids, mask = _padded((SEQ, 6))
    want_padded, want_plain = _logits(model, ids, mask), _logits(model, ids)
    for pattern in ["0000", "00", "0"]:
        apply_unmask(model, pattern)
        torch.testing.assert_close(_logits(model, ids, mask), want_padded, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(_logits(model, ids), want_plain, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(("arch", "impl"), ARCH_ATTN)
def test_all_ones_equals_transformers_bidirectional_mode(arch, impl):
    """Reference: the stock model called with is_causal=False (transformers builds bidirectional masks
    for every layer; the tiny configs' windows exceed the sequence, so sliding does not differ)."""
    model = tiny_causal_lm(arch, attn_implementation=impl)
    ids, mask = _padded((SEQ, 6))
    with torch.no_grad():
        want_padded = model(input_ids=ids, attention_mask=mask, is_causal=False).logits
        want_plain = model(input_ids=ids, is_causal=False).logits
    assert not torch.allclose(want_plain, _logits(model, ids), atol=1e-3)  # the reference differs from causal
    apply_unmask(model, "1111")
    got = _logits(model, ids, mask)
    torch.testing.assert_close(got[0], want_padded[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(got[1, :6], want_padded[1, :6], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(_logits(model, ids), want_plain, atol=1e-5, rtol=1e-5)


# ---- leaks ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("arch", "impl"), ARCH_ATTN)
def test_changing_token_j_reaches_earlier_positions_exactly_from_the_first_unmasked_layer(arch, impl):
    """Change token j: at layer l the positions i < j move iff some layer <= l is unmasked. While all
    layers up to l are masked those outputs are bit-for-bit unchanged."""
    model = tiny_causal_lm(arch, attn_implementation=impl)
    j = 5
    for padded in (False, True):
        ids, mask = _padded((SEQ, 8)) if padded else (_ids(1, 2), None)
        changed = ids.clone()
        changed[:, j] = (ids[:, j] + 7) % 61 + 3
        both_ids = torch.cat([ids, changed])  # one forward: rows are independent
        both_mask = None if mask is None else torch.cat([mask, mask])
        for pattern in ALL_PATTERNS:
            apply_unmask(model, pattern)
            flags = layer_flags(pattern, 4)
            out = _layers_out(model, both_ids, both_mask)
            for layer in range(4):
                before, after = out[layer].chunk(2)
                assert not torch.equal(before[:, j], after[:, j])
                earlier, earlier_changed = before[:, :j], after[:, :j]
                if any(flags[: layer + 1]):
                    per_row = (earlier - earlier_changed).abs().amax(dim=(1, 2))
                    assert bool((per_row > 1e-3).all()), (pattern, layer, padded, per_row)
                else:
                    assert torch.equal(earlier, earlier_changed), (pattern, layer, padded)


def _clean_and_nudged(model, layer: int, position: int, ids, mask) -> tuple[torch.Tensor, torch.Tensor]:
    """Output of `layer` as is and with its *input* changed at `position` (earlier layers untouched),
    so any difference at other positions comes from this one layer's attention. One forward over the
    batch twice, the nudge applied to the second copy only (rows are independent)."""
    body = find_decoder_body(model)
    batch = ids.shape[0]

    def nudge(module, args, kwargs):
        hidden = args[0].clone()
        hidden[batch:, position] += 1.0
        return (hidden, *args[1:]), kwargs

    handle = body.layers[layer].register_forward_pre_hook(nudge, with_kwargs=True)
    try:
        out = _layers_out(model, torch.cat([ids, ids]), None if mask is None else torch.cat([mask, mask]))
    finally:
        handle.remove()
    return out[layer][:batch], out[layer][batch:]


CASES = [(a, impl, None) for a, impl in ARCH_ATTN] + [(a, impl, 3) for a, impl in ARCH_ATTN if a in SLIDING_ARCHS]


@pytest.mark.parametrize(("arch", "impl", "window"), CASES)
def test_each_layer_mixes_exactly_what_its_mask_allows(arch, impl, window):
    """Per layer, in isolation: nudge the layer's input at key position j; the real query positions
    whose output moves are exactly column j of that layer's reference matrix (bidirectional where the
    pattern says 1; causal, and windowed in sliding layers, where it says 0)."""
    model = tiny_causal_lm(arch, attn_implementation=impl, **(sliding_overrides(arch, window) if window else {}))
    geometry = mask_geometry(model.config)
    lengths = (SEQ, 7)
    ids, mask = _padded(lengths, seed=2)
    for pattern in ["0000", "1111", *MIXED]:
        apply_unmask(model, pattern)
        allowed = {n: bidirectional_attention_matrix(pattern, 4, SEQ, n_real=n, **geometry) for n in lengths}
        for j in (1, 6):
            for layer in range(4):
                clean, nudged = _clean_and_nudged(model, layer, j, ids, mask)
                for row, n_real in enumerate(lengths):
                    diff = (clean[row, :n_real] - nudged[row, :n_real]).abs().amax(dim=-1)
                    moved = diff > 0
                    assert moved.tolist() == allowed[n_real][layer][:n_real, j].tolist(), (
                        pattern,
                        j,
                        layer,
                        row,
                    )
                    assert bool((diff[moved] > 1e-4).all())


@pytest.mark.parametrize(("arch", "impl"), [(a, impl) for a, impl in ARCH_ATTN if a in SLIDING_ARCHS])
def test_sliding_window_kept_in_masked_layers_and_dropped_in_unmasked_ones(arch, impl):
    """Window 3 over 10 tokens. Nudge position 0 at the first sliding layer: a masked layer moves only
    positions 0-2, an unmasked one moves all 10."""
    model = tiny_causal_lm(arch, attn_implementation=impl, **sliding_overrides(arch, 3))
    layer = mask_geometry(model.config)["layer_types"].index("sliding_attention")
    ids = _ids(3)
    for pattern, want in [("0000", [0, 1, 2]), ("1111", list(range(SEQ)))]:
        apply_unmask(model, pattern)
        clean, nudged = _clean_and_nudged(model, layer, 0, ids, None)
        moved = ((clean[0] - nudged[0]).abs().amax(dim=-1) > 0).nonzero().flatten().tolist()
        assert moved == want, (pattern, layer)


@pytest.mark.parametrize(("arch", "impl"), ARCH_ATTN)
def test_padding_never_changes_real_tokens(arch, impl):
    """A right-padded batch gives every real token the outputs (all layers) it has alone, unpadded,
    in every pattern; sliding archs use a window of 3 < the sentence lengths."""
    model = tiny_causal_lm(arch, attn_implementation=impl, **(sliding_overrides(arch, 3) or {}))
    lengths = (SEQ, 7, 4)
    ids, mask = _padded(lengths, seed=4)
    for pattern in ALL_PATTERNS:
        apply_unmask(model, pattern)
        batch = _layers_out(model, ids, mask)
        for row, n in enumerate(lengths):
            alone = _layers_out(model, ids[row : row + 1, :n])
            for layer in range(4):
                torch.testing.assert_close(
                    batch[layer][row, :n],
                    alone[layer][0],
                    atol=1e-5,
                    rtol=1e-5,
                    msg=f"{pattern} layer {layer}",
                )


# ---- life cycle: re-apply, wrappers, checkpointing, persistence ------------------------------------------


@pytest.mark.parametrize(("arch", "impl"), ARCH_ATTN)
def test_reapplying_replaces_the_previous_pattern(arch, impl):
    model = tiny_causal_lm(arch, attn_implementation=impl)
    fresh = tiny_causal_lm(arch, attn_implementation=impl)
    ids, mask = _padded((SEQ, 6))
    stock = _logits(model, ids, mask)
    apply_unmask(fresh, "1100")
    want = _logits(fresh, ids, mask)
    apply_unmask(model, "0011")
    apply_unmask(model, "1111")
    apply_unmask(model, "1100")
    assert model.config.unmask_pattern == "1100" and current_pattern(model) == "1100"
    torch.testing.assert_close(_logits(model, ids, mask), want, atol=0, rtol=0)
    body = find_decoder_body(model)
    assert len(body._forward_pre_hooks) == 1
    assert all(len(layer._forward_pre_hooks) == 1 for layer in body.layers)
    remove_unmask(model)
    assert current_pattern(model) is None and not hasattr(model.config, "unmask_pattern")
    torch.testing.assert_close(_logits(model, ids, mask), stock, atol=0, rtol=0)


@pytest.mark.parametrize("arch", ARCHS)
def test_bare_body_causal_lm_and_peft_model_agree(arch):
    from peft import LoraConfig, get_peft_model

    impl = ATTN_IMPLS[arch][-1]
    lm = tiny_causal_lm(arch, attn_implementation=impl)
    ids, mask = _padded((SEQ, 6))
    with torch.no_grad():
        causal = lm.model(input_ids=ids, attention_mask=mask).last_hidden_state
    peft_model = get_peft_model(copy.deepcopy(lm), LoraConfig(r=2, target_modules=["q_proj", "v_proj"]))
    peft_body = wrap_lora(copy.deepcopy(lm.model), r=2, alpha=4, dropout=0.0, target_modules=["q_proj", "v_proj"])
    apply_unmask(lm, "0110")
    apply_unmask(peft_model, "0110")
    apply_unmask(peft_body, "0110")
    assert peft_model.config.unmask_pattern == "0110"
    # the hooks sit on the real body, not on a wrapper that forwards `.layers` to it
    assert type(find_decoder_body(peft_body)) is type(lm.model) and find_decoder_body(peft_body) is not peft_body
    with torch.no_grad():
        via_lm = lm(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states[-1]
        via_body = lm.model(input_ids=ids, attention_mask=mask).last_hidden_state
        via_peft = peft_model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states[-1]
        via_peft_body = peft_body(input_ids=ids, attention_mask=mask).last_hidden_state
    assert not torch.allclose(via_body, causal, atol=1e-3)
    torch.testing.assert_close(via_lm, via_body, atol=0, rtol=0)
    torch.testing.assert_close(via_peft, via_body, atol=1e-6, rtol=1e-6)  # LoRA B starts at zero
    torch.testing.assert_close(via_peft_body, via_body, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("reentrant", [False, True])
@pytest.mark.parametrize(("arch", "impl"), ARCH_ATTN)
def test_gradient_checkpointing_keeps_the_pattern(arch, impl, reentrant):
    """Loss on position 0 only: tokens after it get gradient only through unmasked layers. The
    checkpointed run (its backward replays every layer) must give the same, non-zero, gradients."""
    ids, mask = _padded((SEQ, 6))
    last_token = int(ids[0, SEQ - 1])
    grads = []
    for checkpoint in (False, True):
        model = tiny_causal_lm(arch, attn_implementation=impl)
        apply_unmask(model, "0110")
        if checkpoint:
            model.activation_checkpointing_enable({"use_reentrant": reentrant})
        model.train()
        model(input_ids=ids, attention_mask=mask).logits[:, 0].pow(2).sum().backward()
        grads.append(model.get_input_embeddings().weight.grad[last_token].clone())
    assert grads[0].abs().max() > 1e-4
    torch.testing.assert_close(grads[1], grads[0], atol=1e-6, rtol=1e-5)


def test_save_pretrained_keeps_the_pattern_and_restore_reapplies_it(tmp_path):
    model = tiny_causal_lm("qwen2", attn_implementation="sdpa")
    apply_unmask(model, "0110")
    ids, mask = _padded((SEQ, 6))
    want = _logits(model, ids, mask)
    model.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["unmask_pattern"] == "0110"
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path, attn_implementation="sdpa")
    assert current_pattern(loaded) is None  # from_pretrained alone does not hook
    assert restore_unmask(loaded) == "0110"
    torch.testing.assert_close(_logits(loaded, ids, mask), want, atol=0, rtol=0)


def test_a_deep_copy_can_take_another_pattern_without_touching_the_original():
    model = tiny_causal_lm("llama", attn_implementation="sdpa")
    apply_unmask(model, "1111")
    ids = _ids(5)
    want = _logits(model, ids)
    twin = apply_unmask(copy.deepcopy(model), "0000")
    assert twin.config.unmask_pattern == "0000" and model.config.unmask_pattern == "1111"
    torch.testing.assert_close(_logits(model, ids), want, atol=0, rtol=0)
    assert not torch.allclose(_logits(twin, ids), want, atol=1e-3)


# ---- refusals ---------------------------------------------------------------------------------------

FLASH_MSG = (
    "attention implementation 'flash_attention_2' cannot be unmasked: it ignores custom masks and would "
    "silently stay causal. Load the model with attn_implementation='sdpa' (or 'eager'); in a spec: "
    "model.attn_implementation: sdpa"
)


def test_flash_attention_is_refused_at_apply_and_at_forward():
    model = tiny_causal_lm("llama", attn_implementation="sdpa")
    model.config._attn_implementation = "flash_attention_2"
    with pytest.raises(ModelError) as err:
        apply_unmask(model, "0110")
    assert str(err.value) == FLASH_MSG
    model.config._attn_implementation = "sdpa"
    apply_unmask(model, "0110")
    model.config._attn_implementation = "flash_attention_2"  # switched after applying
    with pytest.raises(ModelError) as err:
        model(input_ids=_ids(0))
    assert str(err.value) == FLASH_MSG


def test_pattern_longer_than_the_model_is_refused():
    model = tiny_causal_lm("mistral", attn_implementation="sdpa")
    with pytest.raises(ModelError, match=r"pattern '01101' has 5 groups but the model has only 4 layers \(L=4\)"):
        apply_unmask(model, "01101")
    assert not hasattr(model.config, "unmask_pattern")


def test_a_filled_cache_and_a_4d_mask_are_refused():
    model = tiny_causal_lm("llama", attn_implementation="sdpa")
    apply_unmask(model, "0110")
    ids = _ids(0)
    cache = DynamicCache(config=model.config)
    model(input_ids=ids[:, :4], past_key_values=cache, use_cache=True)
    with pytest.raises(ModelError, match="incremental decoding with a filled KV cache is not supported"):
        model(input_ids=ids[:, 4:5], past_key_values=cache, use_cache=True)
    with pytest.raises(ModelError, match="needs the 2D padding mask"):
        model(input_ids=ids, attention_mask=torch.ones(1, 1, SEQ, SEQ, dtype=torch.bool))


def test_an_already_bidirectional_config_is_refused():
    model = tiny_causal_lm("gemma3", attn_implementation="sdpa", use_bidirectional_attention=True)
    with pytest.raises(ModelError, match="configured bidirectional already"):
        apply_unmask(model, "0110")


# ---- DecoderTagger ------------------------------------------------------------------------------------


def _tagger(arch: str = "llama", pattern: str = "0110", **kw) -> DecoderTagger:
    backbone = tiny_base_model(arch, attn_implementation=ATTN_IMPLS[arch][-1], **kw)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        return DecoderTagger(backbone, LABELS, pattern, head_dropout=0.1).eval()


def test_tagger_loss_is_cross_entropy_over_labelled_tokens():
    tagger = _tagger()
    ids, mask = _padded((SEQ, 6))
    labels = (ids % 3).masked_fill(mask == 0, -100)
    labels[0, 1] = -100  # e.g. a non-first subword
    out = tagger(input_ids=ids, attention_mask=mask, labels=labels)
    assert out.logits.shape == (2, SEQ, 3)
    keep = labels != -100
    want = torch.nn.functional.cross_entropy(out.logits[keep], labels[keep])
    torch.testing.assert_close(out.loss, want)
    summed = tagger(input_ids=ids, attention_mask=mask, labels=labels, num_items_in_batch=40).loss
    torch.testing.assert_close(summed, want * int(keep.sum()) / 40)


@pytest.mark.parametrize("lora", [False, True])
def test_tagger_pattern_is_live_and_can_be_changed(lora):
    """Through the tagger (bare or LoRA backbone): a later token reaches earlier logits only once the
    pattern unmasks a layer."""
    tagger = _tagger("mistral", "0000")
    if lora:
        backbone = wrap_lora(tagger.backbone, r=2, alpha=4, dropout=0.0, target_modules=["q_proj"])
        tagger = DecoderTagger(backbone, LABELS, "0000").eval()
    ids = _ids(6)
    changed = ids.clone()
    changed[0, -1] = (ids[0, -1] + 5) % 61 + 3

    def earlier_logits(pattern):
        tagger.set_pattern(pattern)
        with torch.no_grad():
            return [tagger(input_ids=x).logits[0, :-1] for x in (ids, changed)]

    assert torch.equal(*earlier_logits("0000"))
    assert not torch.allclose(*earlier_logits("0010"), atol=1e-4)
    assert tagger.pattern == "0010" and tagger.backbone_config.unmask_pattern == "0010"


def test_tagger_refuses_left_padding():
    tagger = _tagger()
    ids, mask = _padded((SEQ, 6))
    with pytest.raises(ModelError, match="the batch is left-padded"):
        tagger(input_ids=ids, attention_mask=mask.flip(-1))


@pytest.mark.parametrize("arch", ARCHS)
def test_tagger_full_save_load_roundtrip(arch, tmp_path):
    tagger = _tagger(arch, "0101")
    ids, mask = _padded((SEQ, 6))
    want = tagger(input_ids=ids, attention_mask=mask).logits
    tagger.save(tmp_path / "tagger")
    meta = json.loads((tmp_path / "tagger" / "tagger.json").read_text())
    assert meta["labels"] == LABELS and meta["pattern"] == "0101" and meta["backbone"] == "full"
    loaded = DecoderTagger.load(tmp_path / "tagger")
    assert loaded.pattern == "0101" and current_pattern(loaded.backbone) == "0101"
    assert loaded.labels == LABELS and not loaded.training
    torch.testing.assert_close(loaded(input_ids=ids, attention_mask=mask).logits, want, atol=0, rtol=0)


def test_tagger_lora_saves_only_the_adapter_and_reloads_identically(tmp_path):
    tiny_base_model("gemma3", attn_implementation="sdpa").save_pretrained(tmp_path / "base")
    backbone = AutoModel.from_pretrained(tmp_path / "base", attn_implementation="sdpa")
    tagger = DecoderTagger(
        wrap_lora(backbone, r=4, alpha=8, dropout=0.0, target_modules=["q_proj", "v_proj"]), LABELS, "0011"
    ).eval()
    trainable = {n for n, p in tagger.named_parameters() if p.requires_grad}
    assert trainable == {"head.weight", "head.bias"} | {n for n in trainable if ".lora_" in n}
    assert any(".lora_A." in n for n in trainable) and any(".lora_B." in n for n in trainable)
    with torch.no_grad():
        for name, param in tagger.named_parameters():
            if ".lora_B." in name:  # as after training: B is no longer zero
                param.normal_(std=0.5, generator=torch.Generator().manual_seed(len(name)))
    ids, mask = _padded((SEQ, 6))
    want = tagger(input_ids=ids, attention_mask=mask).logits
    tagger.save(tmp_path / "tagger")
    assert sorted(p.name for p in (tmp_path / "tagger").iterdir()) == [
        "adapter",
        "head.safetensors",
        "tagger.json",
    ]
    for base in (
        None,
        tmp_path / "base",
        AutoModel.from_pretrained(tmp_path / "base", attn_implementation="sdpa"),
    ):
        loaded = DecoderTagger.load(tmp_path / "tagger", base_model=base)
        assert loaded.pattern == "0011"
        torch.testing.assert_close(loaded(input_ids=ids, attention_mask=mask).logits, want, atol=0, rtol=0)


def test_tagger_load_names_the_missing_file(tmp_path):
    with pytest.raises(ModelError, match=r"tagger.json: not found; is .* a folder written by DecoderTagger.save\?"):
        DecoderTagger.load(tmp_path)


def test_ensure_pad_token_falls_back_to_eos_then_unk_and_pads_right():
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast

    def make(**special):
        vocab = {"<unk>": 0, "</s>": 1, "a": 2}
        return PreTrainedTokenizerFast(
            tokenizer_object=Tokenizer(models.WordLevel(vocab, unk_token="<unk>")),
            padding_side="left",
            **special,
        )

    with_eos = ensure_pad_token(make(eos_token="</s>", unk_token="<unk>"))
    assert with_eos.pad_token == "</s>" and with_eos.padding_side == "right"
    assert ensure_pad_token(make(unk_token="<unk>")).pad_token == "<unk>"
    with pytest.raises(ModelError, match="has no pad, eos or unk token to pad with"):
        ensure_pad_token(make())


def test_trainer_trains_the_tagger_with_checkpointing_and_accumulation(tmp_path):
    from transformers import Trainer, TrainingArguments

    tagger = _tagger("llama", "0110")
    gen = torch.Generator().manual_seed(0)
    rows = []
    for i in range(8):
        ids = torch.randint(3, 64, (4 + i % 4,), generator=gen).tolist()
        rows.append({"input_ids": ids, "labels": [t % 3 for t in ids]})

    def collate(batch):
        width = max(len(r["input_ids"]) for r in batch)
        pad = [width - len(r["input_ids"]) for r in batch]
        return {
            "input_ids": torch.tensor([r["input_ids"] + [0] * p for r, p in zip(batch, pad, strict=True)]),
            "attention_mask": torch.tensor(
                [[1] * len(r["input_ids"]) + [0] * p for r, p in zip(batch, pad, strict=True)]
            ),
            "labels": torch.tensor([r["labels"] + [-100] * p for r, p in zip(batch, pad, strict=True)]),
        }

    args = TrainingArguments(
        output_dir=str(tmp_path),
        max_steps=4,
        per_device_train_batch_size=4,
        gradient_accumulation_steps=2,
        learning_rate=1e-2,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        activation_checkpointing=True,
        disable_tqdm=True,
        seed=0,
    )
    trainer = Trainer(model=tagger, args=args, train_dataset=rows, data_collator=collate)
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert len(losses) == 4 and losses[-1] < losses[0]
    assert tagger.pattern == "0110"
