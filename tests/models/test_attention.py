"""SDPA against the plain reference attention; the shared mask and position ids."""

import pytest
import torch

from ailab.models.attention import (
    attention_mask_for,
    is_causal_for,
    position_ids_for,
    reference_attention,
    sdpa_attention,
)


def _qkv(B=2, H=4, H_kv=4, T=5, S=5, D=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(B, H, T, D, generator=g),
        torch.randn(B, H_kv, S, D, generator=g),
        torch.randn(B, H_kv, S, D, generator=g),
    )


@pytest.mark.parametrize("H_kv", [4, 2, 1])
def test_sdpa_matches_reference_causal(H_kv):
    q, k, v = _qkv(H_kv=H_kv)
    torch.testing.assert_close(sdpa_attention(q, k, v, None, True), reference_attention(q, k, v, None, True))


@pytest.mark.parametrize("H_kv", [4, 2])
def test_sdpa_matches_reference_with_cache_and_padding_mask(H_kv):
    past, T, S = 3, 2, 8  # a static cache: 8 slots, 3 cached, 2 new
    q, k, v = _qkv(H_kv=H_kv, T=T, S=S)
    padding = torch.tensor([[0, 1, 1, 1, 1], [1, 1, 1, 1, 1]])
    mask = attention_mask_for(padding, past, T, S, q.device)
    assert mask.shape == (2, 1, T, S) and mask.dtype == torch.bool
    torch.testing.assert_close(sdpa_attention(q, k, v, mask, False), reference_attention(q, k, v, mask, False))


def test_mask_combines_causality_padding_and_unwritten_slots():
    padding = torch.tensor([[0, 0, 1, 1], [1, 1, 1, 1]])  # row 0 left-padded by 2
    mask = attention_mask_for(padding, past=1, T=3, S=6, device=torch.device("cpu"))[:, 0]  # (B, T, S)
    expected_full_row = torch.tensor([[1, 1, 0, 0, 0, 0], [1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 0, 0]], dtype=torch.bool)
    assert torch.equal(mask[1], expected_full_row)  # key j visible iff j <= past + i; slots >= past + T never
    # row 0: padding keys 0 and 1 hidden from real queries; the padding query at slot 1 sees only itself
    assert torch.equal(
        mask[0], torch.tensor([[0, 1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0], [0, 0, 1, 1, 0, 0]], dtype=torch.bool)
    )


def test_no_mask_on_the_training_path_or_single_token_decode():
    cpu = torch.device("cpu")
    assert attention_mask_for(None, past=0, T=16, S=16, device=cpu) is None and is_causal_for(None, 0, 16)
    assert attention_mask_for(None, past=7, T=1, S=8, device=cpu) is None and not is_causal_for(None, 7, 1)
    chunk = attention_mask_for(None, past=4, T=3, S=7, device=cpu)  # chunked prefill needs the offset mask
    assert chunk.shape == (1, 1, 3, 7) and not is_causal_for(chunk, 4, 3)


def test_position_ids_from_left_padding_and_cache():
    ids = torch.zeros(2, 3, dtype=torch.long)
    assert torch.equal(position_ids_for(ids, 5, None), torch.tensor([[5, 6, 7]]))
    padding = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]])
    assert torch.equal(position_ids_for(ids, 2, padding), torch.tensor([[0, 1, 2], [2, 3, 4]]))
