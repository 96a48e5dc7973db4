"""Validation loss, perplexity and bits per byte of a language model: one evaluator for the trainer and the stage.

`evaluate_windows` is the only code that scores a model on held-out data: `Trainer.evaluate` (the `eval_loss` on the
training curves) and `evaluate_language_model` (the `evaluate` stage's `val_loss`) both call it, so on the same
windows they give the same number. It sums the next-token loss (nats) over every predicted token and divides by
their count, reads batches in order, shards them over DDP ranks (rank r takes batches r, r + world_size, ...) and
all-reduces the sums, and runs under the given autocast precision.

Windowing, decided once (`EvaluationWindows`): windows of `window` tokens that overlap by one token, window i being
`tokens[i * (window - 1) : i * (window - 1) + window]`. A window predicts its last window - 1 tokens, and the next
window starts on the token the previous one ended with, so every token after the first is predicted exactly once
(up to a tail shorter than one window, fewer than window - 1 tokens, which no window reaches).
Non-overlapping windows (the training layout) would never predict the first token of each window: 1 token in
`window` (0.4% at 256) would be missing from the sum and bits per byte would be computed over text partly unscored.
Each prediction has at most window - 1 tokens of context, as in training; a sliding window with more context per
token costs a forward pass per few tokens, too slow to run during training.

Bits per byte divides the summed loss (nats) by ln 2 × the UTF-8 bytes of the text those tokens encode, so models
with different tokenizers compare fairly: a tokenizer with longer tokens has fewer, harder predictions per byte.
When only part of the stream is scored (`max_batches`, or the tail), the bytes are scaled by the share of tokens
predicted.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import Dataset, default_collate
from tqdm.auto import tqdm

from ailab.datasets.causal_lm import IGNORE_INDEX
from ailab.datasets.packing import PackedTokens
from ailab.datasets.windows import num_windows, window_example
from ailab.device import resolve_device
from ailab.token_ids import check_token_ids
from ailab.trainers.precision import autocast_context


class EvaluationWindows(Dataset):
    """Windows of `window` tokens over a token stream, overlapping by one token (see the module docstring).

    `tokens`: a 1-D array or memmap, a `PackedTokens` or the path of a packed token file (whose sidecar gives
    `num_bytes`). `num_bytes`, the UTF-8 size of the text behind all of `tokens`, makes bits per byte computable.
    """

    def __init__(
        self, tokens: np.ndarray | PackedTokens | str | os.PathLike, window: int, num_bytes: int | None = None
    ) -> None:
        if isinstance(tokens, (str, os.PathLike)):
            tokens = PackedTokens(tokens)
        if isinstance(tokens, PackedTokens):
            num_bytes = tokens.num_bytes if num_bytes is None else num_bytes
            tokens = tokens.tokens
        if window < 2:
            raise ValueError(f"window must be at least 2 tokens to predict anything, got {window}")
        self.tokens, self.window, self.num_bytes = tokens, window, num_bytes
        self._len = num_windows(len(tokens), window, window - 1)
        if self._len == 0:
            raise ValueError(
                f"the validation split has {len(tokens)} tokens, fewer than one window of {window}; "
                "use more validation data (data.validation_fraction) or a shorter context (model.n_ctx)"
            )

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return window_example(self.tokens, index, self._len, self.window, self.window - 1)

    @property
    def predictable_tokens(self) -> int:
        """Tokens of the stream that have a predecessor: what bits per byte's `num_bytes` is shared among."""
        return max(len(self.tokens) - 1, 1)

    def __repr__(self) -> str:
        return f"EvaluationWindows(num_tokens={len(self.tokens)}, window={self.window}, windows={self._len})"


@torch.no_grad()
def evaluate_windows(
    model: nn.Module,
    dataset: Dataset,
    *,
    batch_size: int = 16,
    max_batches: int | None = None,
    device: str | torch.device = "auto",
    precision: str = "no",
    rank: int = 0,
    world_size: int = 1,
    progress: bool = False,
) -> dict[str, Any]:
    """Mean next-token loss over the examples (`{"input_ids", "labels"}`) of `dataset`, read in order in batches.

    Returns {"val_loss", "perplexity", "val_tokens"} and, when the dataset knows the bytes of its text (as
    `EvaluationWindows` does), "bits_per_byte". `max_batches` scores only the first batches. With `world_size` > 1
    (a DDP run; every rank calls this) each rank scores its share of the batches and the sums are all-reduced.
    `precision` is "no", "bf16" or "fp16" (autocast). Labels of -100 are not predicted. The model's mode is restored.
    """
    device = resolve_device(device)
    num_batches = math.ceil(len(dataset) / batch_size)
    if max_batches is not None:
        num_batches = min(num_batches, max_batches)
    vocab_size = getattr(getattr(model, "config", None), "vocab_size", None)
    was_training = model.training
    model.eval().to(device)
    totals = torch.zeros(2, dtype=torch.float64, device=device)  # [summed nats, predicted tokens]
    shard = range(rank, num_batches, world_size)
    for b in tqdm(shard, desc="evaluate", unit="batch", disable=None if progress else True, leave=False):
        items = [dataset[i] for i in range(b * batch_size, min((b + 1) * batch_size, len(dataset)))]
        batch = default_collate([{"input_ids": item["input_ids"], "labels": item["labels"]} for item in items])
        if vocab_size is not None:
            check_token_ids(
                batch["input_ids"],
                vocab_size,
                name="the evaluation data",
                fix="the data was tokenized for another model; re-tokenize it with this model's tokenizer (re-run "
                "prepare)",
            )
        input_ids, labels = batch["input_ids"].to(device), batch["labels"].to(device)
        with autocast_context(precision, device):
            loss = model(input_ids, labels=labels).loss
        predicted = (labels[:, 1:] != IGNORE_INDEX).sum()
        nats = torch.where(predicted > 0, loss.double() * predicted, 0.0)  # a batch of padding only has a NaN mean
        totals += torch.stack([nats, predicted.double()])
    if world_size > 1:
        dist.all_reduce(totals, op=dist.ReduceOp.SUM)
    model.train(was_training)

    nats, predicted = totals.tolist()
    mean_loss = nats / predicted if predicted else float("nan")
    metrics: dict[str, Any] = {
        "val_loss": mean_loss,
        "perplexity": math.exp(min(mean_loss, 700.0)),
        "val_tokens": int(predicted),
    }
    num_bytes = getattr(dataset, "num_bytes", None)
    if num_bytes is not None:
        covered_bytes = num_bytes * predicted / dataset.predictable_tokens
        metrics["bits_per_byte"] = nats / (math.log(2) * covered_bytes) if covered_bytes > 0 else float("nan")
    return metrics


def evaluate_language_model(
    model: nn.Module,
    tokens: np.ndarray,
    num_bytes: int,
    *,
    window: int,
    batch_size: int = 16,
    max_batches: int | None = None,
    device: str | torch.device = "auto",
    precision: str = "no",
    progress: bool = True,
) -> dict[str, Any]:
    """Mean next-token loss over `tokens` (a 1-D array or memmap), with perplexity and bits per byte.

    `num_bytes` is the UTF-8 size of the text behind all of `tokens` (the packed file's sidecar has it). Scores
    `EvaluationWindows(tokens, window)` with `evaluate_windows`; adds "tokens_per_byte".
    """
    windows = EvaluationWindows(tokens, window, num_bytes)
    metrics = evaluate_windows(
        model, windows, batch_size=batch_size, max_batches=max_batches, device=device, precision=precision,
        progress=progress,
    )  # fmt: skip
    metrics["tokens_per_byte"] = len(tokens) / num_bytes if num_bytes else float("nan")
    return metrics
