"""What a causal language model's forward pass returns, and the loss it computes."""

from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor

from ailab.generation.kv_cache import KVCache


@dataclass
class CausalLMOutput:
    """`logits` (B, T, V); `loss` (scalar) when labels were given; `kv_cache` the cache passed in, now updated."""

    logits: Tensor
    loss: Tensor | None = None
    kv_cache: KVCache | None = None


def causal_lm_loss(logits: Tensor, labels: Tensor, ignore_index: int = -100) -> Tensor:
    """Mean next-token cross entropy in float32: position t predicts labels[t+1]; `ignore_index` labels don't count.

    Labels are shifted left (padding the end with `ignore_index`) rather than slicing the logits, which would copy
    the (B, T, V) tensor.
    """
    labels = F.pad(labels, (0, 1), value=ignore_index)[:, 1:]  # (B, T): the token each position must predict
    return F.cross_entropy(logits.flatten(0, 1).float(), labels.flatten(), ignore_index=ignore_index)
