"""Data-parallel set-up for runs launched by torchrun: process group, device per rank, DDP wrapping, rank helpers.

A run is distributed when the environment says WORLD_SIZE > 1 (torchrun sets WORLD_SIZE, RANK and LOCAL_RANK).
The backend is NCCL on CUDA and gloo on CPU. The model itself holds no parallelism; `wrap_ddp` is applied from outside.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ailab.device import resolve_device


@dataclass(frozen=True)
class DistributedInfo:
    """Where this process sits in the job; world_size 1 means a plain single-process run."""

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main_process(self) -> bool:
        return self.rank == 0


def distributed_info_from_env() -> DistributedInfo:
    """Read torchrun's RANK / LOCAL_RANK / WORLD_SIZE (absent: a single process)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistributedInfo()
    return DistributedInfo(
        rank=int(os.environ["RANK"]), local_rank=int(os.environ.get("LOCAL_RANK", "0")), world_size=world_size
    )


def device_for_rank(requested: str, info: DistributedInfo) -> torch.device:
    """This rank's device: `ailab.device.resolve_device(requested)`, where a bare "cuda" means cuda:LOCAL_RANK."""
    device = resolve_device(requested)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", info.local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    return device


def init_distributed(info: DistributedInfo, device: torch.device) -> None:
    """Join the process group (once) when the run is distributed."""
    if info.is_distributed and not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, rank=info.rank, world_size=info.world_size)


def teardown_distributed() -> None:
    """Leave the process group if one was joined."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def wrap_ddp(model: nn.Module, device: torch.device) -> DistributedDataParallel:
    """DistributedDataParallel over `model` (already on `device`)."""
    device_ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids)


def all_reduce_mean(tensor: torch.Tensor, info: DistributedInfo) -> torch.Tensor:
    """Mean of `tensor` over ranks (in place); identity for a single process."""
    if info.is_distributed:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        tensor /= info.world_size
    return tensor


def all_reduce_sum(tensor: torch.Tensor, info: DistributedInfo) -> torch.Tensor:
    """Sum of `tensor` over ranks (in place); identity for a single process."""
    if info.is_distributed:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def barrier(info: DistributedInfo) -> None:
    """Wait for every rank (no-op for a single process)."""
    if info.is_distributed:
        dist.barrier()
