"""Resumable, seeded data order: one permutation per epoch, sharded across ranks, with a saved position.

Epoch e reads the dataset in the order `torch.randperm(len(dataset), generator=Generator().manual_seed(seed + e))`.
The permutation is cut to a whole number of global micro-batches (train_batch_size × world_size each; the remainder
of an epoch is skipped), and rank r takes `indices[r::world_size]`, so one global micro-batch is the same set of
windows whatever the number of ranks. The position (epoch, micro-batch within the epoch) is all a checkpoint needs.

Batches are assembled in the training process (`collate`: index the dataset, stack): PackedWindowDataset items are
slices of a memmap, cheaper to read than to ship from worker processes, so no DataLoader workers are used.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset


class ShuffledBatchSampler:
    """Yields lists of dataset indices (this rank's micro-batch), epoch after epoch, resumable mid-epoch."""

    def __init__(self, dataset_len: int, batch_size: int, *, seed: int, rank: int = 0, world_size: int = 1) -> None:
        self.dataset_len = dataset_len
        self.batch_size = batch_size
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.batches_per_epoch = dataset_len // (batch_size * world_size)
        if self.batches_per_epoch == 0:
            raise ValueError(
                f"the training set has {dataset_len} items, fewer than one global micro-batch "
                f"(train_batch_size {batch_size} × {world_size} process(es)); use a smaller train_batch_size "
                "or more data"
            )
        self.epoch = 0
        self.batch_index = 0  # next micro-batch to yield within `epoch`
        self._order: torch.Tensor | None = None

    def _epoch_order(self) -> torch.Tensor:
        if self._order is None:
            generator = torch.Generator().manual_seed(self.seed + self.epoch)
            perm = torch.randperm(self.dataset_len, generator=generator)
            perm = perm[: self.batches_per_epoch * self.batch_size * self.world_size]
            self._order = perm[self.rank :: self.world_size]
        return self._order

    def next_batch(self) -> list[int]:
        """Indices of this rank's next micro-batch, moving to the next epoch when this one is used up."""
        if self.batch_index == self.batches_per_epoch:
            self.epoch += 1
            self.batch_index = 0
            self._order = None
        start = self.batch_index * self.batch_size
        indices = self._epoch_order()[start : start + self.batch_size].tolist()
        self.batch_index += 1
        return indices

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "batch_index": self.batch_index, "seed": self.seed}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch = int(state["epoch"])
        self.batch_index = int(state["batch_index"])
        self._order = None


def collate(dataset: Dataset, indices: list[int]) -> dict[str, torch.Tensor]:
    """Stack the items of `dataset` at `indices` into a batch of {"input_ids", "labels"} tensors."""
    items = [dataset[i] for i in indices]
    return {key: torch.stack([torch.as_tensor(item[key]) for item in items]) for key in ("input_ids", "labels")}
