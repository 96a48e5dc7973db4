"""Validation loss, perplexity and bits per byte of a language model on a packed token file.

Bits per byte divides the summed loss (nats) by ln 2 × the UTF-8 bytes of the text those tokens encode, so models
with different tokenizers compare fairly: a tokenizer with longer tokens has fewer, harder predictions per byte.
Windows of `window` tokens overlap by one token, so every token after the first is predicted exactly once.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ailab.device import resolve_device


@torch.no_grad()
def evaluate_language_model(
    model: nn.Module,
    tokens: np.ndarray,
    num_bytes: int,
    *,
    window: int,
    batch_size: int = 16,
    max_batches: int | None = None,
    device: str | torch.device = "auto",
    progress: bool = True,
) -> dict[str, Any]:
    """Mean next-token loss over `tokens` (a 1-D array or memmap), with perplexity and bits per byte.

    `num_bytes` is the UTF-8 size of the text behind all of `tokens` (the packed file's sidecar has it); when only
    part of the stream is evaluated (`max_batches`), bits per byte scales it by the share of tokens predicted.
    """
    if window < 2:
        raise ValueError(f"window must be at least 2 tokens to predict anything, got {window}")
    n = len(tokens)
    if n < window:
        raise ValueError(
            f"the validation split has {n} tokens, fewer than one window of {window}; "
            "use more validation data (data.validation_fraction) or a shorter context (model.n_ctx)"
        )
    device = resolve_device(device)
    was_training = model.training
    model.eval().to(device)
    step = window - 1
    starts = list(range(0, n - window + 1, step))
    batches = [starts[i : i + batch_size] for i in range(0, len(starts), batch_size)]
    if max_batches is not None:
        batches = batches[:max_batches]

    total_nats = 0.0
    total_predicted = 0
    for batch in tqdm(batches, desc="evaluate", unit="batch", disable=None if progress else True, leave=False):
        x = torch.from_numpy(np.stack([np.asarray(tokens[s : s + window], dtype=np.int64) for s in batch]))
        x = x.to(device)  # (B, window)
        out = model(x, labels=x)
        predicted = x.shape[0] * (window - 1)
        total_nats += out.loss.float().item() * predicted
        total_predicted += predicted
    model.train(was_training)

    mean_loss = total_nats / total_predicted
    covered_bytes = num_bytes * total_predicted / max(n - 1, 1)
    return {
        "val_loss": mean_loss,
        "perplexity": math.exp(min(mean_loss, 700.0)),
        "bits_per_byte": total_nats / (math.log(2) * covered_bytes) if covered_bytes > 0 else float("nan"),
        "val_tokens": total_predicted,
        "tokens_per_byte": n / num_bytes if num_bytes else float("nan"),
    }
