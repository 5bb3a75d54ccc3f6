"""Layer groups, flags and attention matrices: exact values, and the masks the model really applies."""

from __future__ import annotations

import pytest
import torch
from tiny_models import ARCH_ATTN, ARCHS, single_thread, sliding_overrides, tiny_causal_lm, tiny_config
from unmask_hooks import mask_geometry

from seqlab_spec.errors import ModelError
from seqlab_spec.models.unmask import apply_unmask, bidirectional_attention_matrix, group_layers, layer_flags

SEQ = 10
N_REAL = (10, 7)  # row 0 full length, row 1 right-padded after 7 tokens


@pytest.fixture(autouse=True)
def _one_thread():
    with single_thread():
        yield


def test_group_layers_30_into_4_puts_the_extra_layers_first():
    assert group_layers(30, 4) == [
        list(range(0, 8)),
        list(range(8, 16)),
        list(range(16, 23)),
        list(range(23, 30)),
    ]


@pytest.mark.parametrize("n_layers", range(1, 13))
def test_group_layers_contiguous_even_first_groups_larger(n_layers):
    for n_groups in range(1, n_layers + 1):
        groups = group_layers(n_layers, n_groups)
        assert [i for g in groups for i in g] == list(range(n_layers))
        base, extra = divmod(n_layers, n_groups)
        assert [len(g) for g in groups] == [base + 1] * extra + [base] * (n_groups - extra)


def test_group_layers_refuses_more_groups_than_layers():
    with pytest.raises(ModelError) as err:
        group_layers(4, 5)
    assert str(err.value) == (
        "5 layer groups for a model with 4 layers: every group needs a layer; use at most 4 groups"
    )
    with pytest.raises(ModelError, match="need at least one layer group, got 0"):
        group_layers(4, 0)


def test_layer_flags_0110_on_30_layers():
    assert layer_flags("0110", 30) == [False] * 8 + [True] * 15 + [False] * 7
    assert layer_flags("1", 3) == [True, True, True]
    assert layer_flags("0101", 4) == [False, True, False, True]


def test_pattern_longer_than_layers_is_refused_with_the_fix():
    with pytest.raises(ModelError) as err:
        layer_flags("01101", 4)
    assert str(err.value) == (
        "unmask pattern '01101' has 5 groups but the model has only 4 layers (L=4): each group needs at "
        "least one layer; use a pattern of at most 4 characters"
    )


@pytest.mark.parametrize("bad", ["", "0120", "01 1", "abc", None])
def test_malformed_patterns_are_refused(bad):
    with pytest.raises(ModelError) as err:
        layer_flags(bad, 4)
    assert str(err.value) == (
        f"unmask pattern {bad!r} must be a non-empty string of 0 and 1, one character per layer group "
        "(e.g. '0110': 4 groups, the middle two bidirectional)"
    )


def test_attention_matrix_exact_values():
    causal, full = bidirectional_attention_matrix("01", 2, 4)
    assert causal.dtype == torch.bool
    assert causal.int().tolist() == [[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]]
    assert full.int().tolist() == [[1] * 4] * 4


def test_attention_matrix_sliding_window_and_padding():
    slid, full_causal, bidir = bidirectional_attention_matrix(
        "001",
        3,
        5,
        sliding_window=2,
        layer_types=["sliding_attention", "full_attention", "full_attention"],
        n_real=4,
    )
    assert slid.int().tolist() == [
        [1, 0, 0, 0, 0],
        [1, 1, 0, 0, 0],
        [0, 1, 1, 0, 0],
        [0, 0, 1, 1, 0],
        [0, 0, 0, 1, 0],
    ]
    assert full_causal.int().tolist() == [
        [1, 0, 0, 0, 0],
        [1, 1, 0, 0, 0],
        [1, 1, 1, 0, 0],
        [1, 1, 1, 1, 0],
        [1, 1, 1, 1, 0],
    ]
    # an unmasked layer drops the window but never sees padding
    assert bidir.int().tolist() == [[1, 1, 1, 1, 0]] * 5
    # no layer_types + a window: every layer slides (Mistral)
    (mistral,) = bidirectional_attention_matrix("0", 1, 3, sliding_window=1)
    assert mistral.int().tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]


def test_mask_geometry_reads_each_arch():
    assert mask_geometry(tiny_config("llama")) == {
        "sliding_window": None,
        "layer_types": ["full_attention"] * 4,
    }
    assert mask_geometry(tiny_config("mistral", sliding_window=3)) == {
        "sliding_window": 3,
        "layer_types": ["sliding_attention"] * 4,
    }
    assert mask_geometry(tiny_config("gemma3", sliding_window=3))["layer_types"] == [
        "sliding_attention",
        "full_attention",
        "sliding_attention",
        "full_attention",
    ]


def _batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, 64, (len(N_REAL), SEQ), generator=g)
    mask = torch.zeros_like(ids)
    for row, n in enumerate(N_REAL):
        mask[row, :n] = 1
        ids[row, n:] = 0
    return ids, mask


WINDOW_CASES = [(a, None) for a in ARCHS] + [(a, 3) for a in ARCHS if sliding_overrides(a, 3) is not None]


@pytest.mark.parametrize(("arch", "window"), WINDOW_CASES)
def test_eager_attention_probabilities_follow_the_matrices_exactly(arch, window):
    """Under eager attention a masked pair gets probability exactly 0, an allowed one > 0: the set of
    positive probabilities of every layer, head and real query row must equal the reference matrix
    (window 3 < 10 tokens: masked sliding layers keep it, unmasked layers drop it)."""
    overrides = sliding_overrides(arch, window) if window else {}
    model = tiny_causal_lm(arch, attn_implementation="eager", **overrides)
    geometry = mask_geometry(model.config)
    ids, mask = _batch()
    for pattern in ["0000", "1111", "0110", "1001", "1010", "01", "1"]:
        apply_unmask(model, pattern)
        with torch.no_grad():
            attentions = model(input_ids=ids, attention_mask=mask, output_attentions=True).attentions
        for row, n_real in enumerate(N_REAL):
            expected = bidirectional_attention_matrix(pattern, 4, SEQ, n_real=n_real, **geometry)
            for layer in range(4):
                got = attentions[layer][row, :, :n_real] > 0  # heads x real queries x keys
                assert torch.equal(got, expected[layer][:n_real].expand_as(got)), (pattern, row, layer)


@pytest.mark.parametrize("arch", sorted({a for a, impl in ARCH_ATTN if impl == "sdpa"}))
def test_sdpa_matches_eager_for_every_pattern(arch):
    """SDPA takes a different path (None mask + is_causal=False without padding, a bool mask with it);
    it must compute what the exactly-checked eager path computes."""
    overrides = sliding_overrides(arch, 3) or {}
    eager = tiny_causal_lm(arch, attn_implementation="eager", **overrides)
    sdpa = tiny_causal_lm(arch, attn_implementation="sdpa", **overrides)
    assert all(torch.equal(a, b) for a, b in zip(eager.state_dict().values(), sdpa.state_dict().values(), strict=True))
    ids, mask = _batch(1)
    for pattern in ["0000", "1111", "0110", "1001", "0101"]:
        apply_unmask(eager, pattern)
        apply_unmask(sdpa, pattern)
        with torch.no_grad():
            for kwargs in ({"attention_mask": mask}, {}):  # padded batch; no mask at all
                want = eager(input_ids=ids, **kwargs).logits
                got = sdpa(input_ids=ids, **kwargs).logits
                for row, n_real in enumerate(N_REAL if kwargs else (SEQ, SEQ)):
                    torch.testing.assert_close(got[row, :n_real], want[row, :n_real], atol=1e-5, rtol=1e-5)
