"""Fixed-length training windows read straight from a packed token file.

Window i is `tokens[i * stride : i * stride + window]`; only that slice is copied out of the memmap (and widened to
int64), so the corpus is never loaded. `labels` equal `input_ids`: the model shifts them inside (as in transformers),
so `model(**example).loss` is the next-token loss. With stride == window (the default) the windows tile the stream;
a smaller stride overlaps them (stride 512 on window 1024: each token appears in two windows). Random offsets come
from shuffling the window indices (DataLoader(shuffle=True)) - every start is a multiple of the stride.
"""

from __future__ import annotations

import os

import numpy as np
import torch
from torch.utils.data import Dataset

from ailab.datasets.packing import PackedTokens


def num_windows(num_tokens: int, window: int, stride: int) -> int:
    """How many full windows of `window` tokens start at multiples of `stride` within `num_tokens` tokens."""
    if num_tokens < window:
        return 0
    return (num_tokens - window) // stride + 1


def check_window(window: int, stride: int | None) -> int:
    """Validate window/stride and return the stride (default: the window, i.e. no overlap)."""
    if window < 1:
        raise ValueError(f"window must be >= 1 token, got {window}")
    stride = window if stride is None else stride
    if stride < 1:
        raise ValueError(f"stride must be >= 1 token, got {stride}")
    return stride


def window_example(tokens: np.ndarray, index: int, count: int, window: int, stride: int) -> dict[str, torch.Tensor]:
    """Window `index` of `count` (negative counts from the end): tokens[index*stride : +window] as ids and labels."""
    if index < 0:
        index += count
    if not 0 <= index < count:
        raise IndexError(f"window {index} out of range: this dataset has {count} windows")
    start = index * stride
    x = torch.from_numpy(tokens[start : start + window].astype(np.int64))  # copies just this slice
    return {"input_ids": x, "labels": x.clone()}


class PackedWindowDataset(Dataset):
    """Map-style dataset of `{"input_ids", "labels"}` LongTensor windows over a packed token file."""

    def __init__(self, path_or_packed: str | os.PathLike | PackedTokens, window: int, stride: int | None = None):
        self.packed = path_or_packed if isinstance(path_or_packed, PackedTokens) else PackedTokens(path_or_packed)
        self.window = window
        self.stride = check_window(window, stride)
        self._len = num_windows(len(self.packed), window, self.stride)
        if self._len == 0:
            raise ValueError(
                f"{self.packed.path} holds {len(self.packed)} tokens, fewer than one window of {window}: "
                "use a smaller window (model n_ctx / block_size) or a larger corpus"
            )

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return window_example(self.packed.tokens, index, self._len, self.window, self.stride)

    def __repr__(self) -> str:
        return f"PackedWindowDataset({self.packed!r}, window={self.window}, stride={self.stride}, windows={self._len})"
