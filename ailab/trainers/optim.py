"""AdamW with two parameter groups: weight decay on weight matrices, none on biases, norms and embeddings."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


def param_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Split trainable parameters into a decayed group (ndim >= 2, not an embedding) and a non-decayed one.

    Embedding weights are found by identity, so an output head tied to the token embedding is not decayed either.
    """
    embedding_ids = {id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    decay, no_decay = [], []
    for param in model.parameters():  # deduplicates tied parameters
        if not param.requires_grad:
            continue
        if param.ndim >= 2 and id(param) not in embedding_ids:
            decay.append(param)
        else:
            no_decay.append(param)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def build_optimizer(
    model: nn.Module,
    *,
    learning_rate: float,
    weight_decay: float,
    betas: tuple[float, float],
    device: torch.device,
) -> torch.optim.AdamW:
    """AdamW over `param_groups`; the fused kernel on CUDA, the multi-tensor (foreach) one elsewhere."""
    fused = device.type == "cuda"
    return torch.optim.AdamW(
        param_groups(model, weight_decay),
        lr=learning_rate,
        betas=tuple(betas),
        fused=fused or None,
        foreach=None if fused else True,
    )
