"""Tiny random models saved as local checkpoints with a real tokenizer.

A folder written here is what a hub download gives (config, weights, tokenizer), so a spec that names it
runs the hub-model path end to end in seconds and offline: the tests and the benchmarks' `--tiny` mode use
them, and a user can smoke-test a Llama/Mistral spec before fetching 7B weights:

    python -c "from seqlab_spec.models.tiny import save_tiny_decoder; print(save_tiny_decoder('tiny-llama'))"
"""

from __future__ import annotations

from pathlib import Path


def save_tiny_encoder(dest: str | Path, *, tokenizer: str = "minilm-l6", layers: int = 2, seed: int = 0) -> Path:
    """A width-32 BERT without dropout (two runs differ only by what the trainer does), no task head: each
    user adds its own label set's."""
    import torch
    from transformers import BertConfig, BertModel

    tok = _tokenizer(tokenizer)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    return _save(BertModel(config), tok, dest)


def save_tiny_decoder(
    dest: str | Path, *, tokenizer: str = "minilm-l6", layers: int = 4, max_positions: int = 128, seed: int = 0
) -> Path:
    """A width-32 Llama with grouped-query attention, as the real decoders have. Any fast tokenizer serves the
    tagger; SIFT needs one with an end-of-sequence token (tokenizer="smollm2-135m")."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = _tokenizer(tokenizer)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=8,
        max_position_embeddings=max_positions,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        bos_token_id=tok.bos_token_id,
        tie_word_embeddings=False,
    )
    return _save(LlamaForCausalLM(config), tok, dest)


def _tokenizer(name: str):
    from .registry import load_tokenizer, resolve

    return load_tokenizer(resolve(name))


def _save(model, tok, dest: str | Path) -> Path:
    path = Path(dest)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path.absolute()
