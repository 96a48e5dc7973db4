"""Attention kernels and the one mask/position computation both models share.

`sdpa_attention` is the fast path (PyTorch picks Flash / memory-efficient kernels where the device has them);
`reference_attention` spells the same computation out in plain tensor ops, with the same signature, so tests can
check the fast one against it. Training passes `is_causal=True` and no mask: no T×T tensor is ever built.

With a KV cache or a padding mask, the model builds ONE boolean mask per forward pass with `attention_mask_for`
(True = may attend), shared by every layer: query i (absolute position past+i) sees key slot j iff j <= past+i and
slot j is not padding.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from ailab.generation.kv_cache import KVCache


def sdpa_attention(
    q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, is_causal: bool, dropout_p: float = 0.0
) -> Tensor:
    """q (B, H, T, D), k/v (B, H_kv, S, D) with H_kv dividing H; mask (B|1, 1, T, S) bool or None -> (B, H, T, D)."""
    return F.scaled_dot_product_attention(
        q, k, v, attn_mask=mask, dropout_p=dropout_p, is_causal=is_causal, enable_gqa=k.shape[1] != q.shape[1]
    )


def reference_attention(
    q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, is_causal: bool, dropout_p: float = 0.0
) -> Tensor:
    """softmax(q·kᵀ/√D + mask)·v written out; same arguments and result as `sdpa_attention`."""
    T, S = q.shape[2], k.shape[2]
    if k.shape[1] != q.shape[1]:  # grouped-query: each KV head serves H / H_kv query heads
        k = k.repeat_interleave(q.shape[1] // k.shape[1], dim=1)  # (B, H, S, D)
        v = v.repeat_interleave(q.shape[1] // v.shape[1], dim=1)
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])  # (B, H, T, S)
    if is_causal:
        mask = torch.ones(T, S, dtype=torch.bool, device=q.device).tril()
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = F.dropout(scores.softmax(dim=-1), p=dropout_p)
    return weights @ v  # (B, H, T, D)


def past_length(kv_cache: KVCache | None) -> int:
    """Tokens already in the cache (0 without one); read once per forward pass."""
    return 0 if kv_cache is None else kv_cache.get_seq_length()


def check_attention_mask(attention_mask: Tensor | None, input_ids: Tensor, past: int) -> None:
    """Raise ValueError unless the padding mask covers the cached plus the new tokens."""
    B, T = input_ids.shape
    if attention_mask is not None and tuple(attention_mask.shape) != (B, past + T):
        raise ValueError(
            f"attention_mask must be (batch, cached + new tokens) = ({B}, {past + T}); "
            f"got {tuple(attention_mask.shape)}. "
            "It covers the cached tokens too (1 = real token, 0 = padding), as in transformers"
        )


def position_ids_for(input_ids: Tensor, past: int, attention_mask: Tensor | None) -> Tensor:
    """Absolute positions of the new tokens, (B|1, T): past + 0..T-1, or, with a padding mask, the count of real
    tokens before each one (cumsum(mask) - 1, clamped at 0) so that left-padded rows start at position 0."""
    T = input_ids.shape[1]
    return positions_at(attention_mask, torch.arange(past, past + T, device=input_ids.device))


def positions_at(attention_mask: Tensor | None, cache_position: Tensor) -> Tensor:
    """Position ids (B|1, T) of the tokens in slots `cache_position` (T,): the slots themselves, or, with a padding
    mask (B, >= slots), the count of real tokens before each one (cumsum(mask) - 1, clamped at 0)."""
    if attention_mask is None:
        return cache_position.unsqueeze(0)  # (1, T)
    positions = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)  # (B, S)
    return positions[:, cache_position]


def attention_mask_for(attention_mask: Tensor | None, past: int, T: int, S: int, device: torch.device) -> Tensor | None:
    """The boolean mask (B|1, 1, T, S) all layers use, or None when SDPA needs none (see `is_causal_for`).

    Keys are slots 0..S-1 (S = past+T for a dynamic cache, max_seq_len for a static one; slots >= past+T are
    unwritten and masked by causality). See `slot_mask` for the rule.
    """
    if attention_mask is None and (past == 0 or T == 1) and S == past + T:
        return None
    return slot_mask(attention_mask, torch.arange(past, past + T, device=device), S)


def slot_mask(attention_mask: Tensor | None, cache_position: Tensor, S: int) -> Tensor:
    """(B|1, 1, T, S) bool: the query in slot `cache_position[i]` sees key slot j iff j <= cache_position[i] and slot
    j is not padding in `attention_mask` (B, <= S; missing slots count as padding).

    Each query also sees its own slot, so a padding query never has an all-False row (which would give NaN and poison
    the cache); real tokens never see padding. Built from tensors only, so it is the same graph at every position.
    """
    query_pos = cache_position.unsqueeze(1)  # (T, 1)
    key_pos = torch.arange(S, device=cache_position.device).unsqueeze(0)  # (1, S)
    mask = key_pos <= query_pos  # (T, S) causal
    if attention_mask is not None:
        keep = F.pad(attention_mask.bool(), (0, S - attention_mask.shape[1]))  # (B, S): static slots beyond are False
        mask = mask & (keep[:, None, :] | (key_pos == query_pos))  # (B, T, S)
    else:
        mask = mask.unsqueeze(0)  # (1, T, S)
    return mask.unsqueeze(1)  # (B|1, 1, T, S)


def is_causal_for(mask: Tensor | None, past: int, T: int) -> bool:
    """SDPA's own causal masking is right only when no mask was built and there is no cached prefix to see past."""
    return mask is None and past == 0 and T > 1


def attention_inputs(
    input_ids: Tensor,
    kv_cache: KVCache | None,
    attention_mask: Tensor | None,
    position_ids: Tensor | None,
    cache_position: Tensor | None,
) -> tuple[Tensor, Tensor | None, bool]:
    """Position ids (B|1, T), the shared mask and `is_causal` for one forward pass over `input_ids` (B, T).

    Without `cache_position` the new tokens follow the `past` tokens the cache holds (a host-side count). With it,
    the slots (T,) the new tokens take in a static cache, the same tensor places the tokens, their rotary angles /
    position embeddings and the mask, and `attention_mask` may cover all `max_seq_len` slots: fixed shapes, no host
    read, one compiled graph for every position (the slots are trusted, not checked, there).
    """
    T = input_ids.shape[1]
    if cache_position is None:
        past = past_length(kv_cache)
        check_attention_mask(attention_mask, input_ids, past)
        S = kv_cache.max_seq_len if kv_cache is not None and kv_cache.is_static else past + T
        mask = attention_mask_for(attention_mask, past, T, S, input_ids.device)
        if position_ids is None:
            position_ids = position_ids_for(input_ids, past, attention_mask)
        return position_ids, mask, is_causal_for(mask, past, T)
    if kv_cache is None or not kv_cache.is_static:
        raise ValueError("cache_position (explicit cache slots) needs a StaticKVCache passed as kv_cache")
    S = kv_cache.max_seq_len
    if cache_position.shape != (T,):
        raise ValueError(
            f"cache_position must hold one slot per new token, shape ({T},); got {tuple(cache_position.shape)}"
        )
    if attention_mask is not None and (attention_mask.shape[0] != input_ids.shape[0] or attention_mask.shape[1] > S):
        raise ValueError(
            f"with cache_position, attention_mask must be (batch, <= max_seq_len) = ({input_ids.shape[0]}, <= {S}); "
            f"got {tuple(attention_mask.shape)}"
        )
    if position_ids is None:
        position_ids = positions_at(attention_mask, cache_position)
    return position_ids, slot_mask(attention_mask, cache_position, S), False
