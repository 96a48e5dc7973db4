"""`StepMetrics`: the loss, gradient norm and NaN watch of the training loop, kept on the device between logs.

Reading a CUDA tensor on the host (`.item()`, `float()`, `if t:`) waits for every queued kernel, so a loop that
reads the loss each step leaves the GPU idle while Python prepares the next step. Here each step only adds to
device tensors; the host reads them at sync points (logging, evaluation, checkpoint and the last step), where a
non-finite loss is also caught: at the latest `logging_steps` steps after it happened, naming the step it first
appeared at, and always before a checkpoint could save the damaged weights.
"""

from __future__ import annotations

import torch
import torch.distributed as dist

from ailab.trainers.distributed import DistributedInfo

NO_STEP = 2**62  # "no non-finite loss yet": larger than any step, so a min over ranks finds the first bad one


class StepMetrics:
    """Running sums since the last log, on `device`; `read` is the only place the host waits for them."""

    def __init__(self, device: torch.device, global_step: int) -> None:
        # float64 sums give the same mean as summing the per-step floats on the host; MPS has no float64
        dtype = torch.float32 if device.type == "mps" else torch.float64
        self._sums = torch.zeros(2, dtype=dtype, device=device)  # [loss, grad_norm] since the last log
        self._step = torch.tensor(global_step, dtype=torch.long, device=device)  # the step on the device
        self._first_bad_step = torch.full((), NO_STEP, dtype=torch.long, device=device)
        self._first_bad_loss = torch.full((), float("nan"), dtype=dtype, device=device)
        self.last_loss = torch.zeros((), dtype=dtype, device=device)  # this rank's loss of the latest step
        self.steps = 0

    def add(self, loss: torch.Tensor, grad_norm: torch.Tensor) -> None:
        """Count one optimizer step: queued device ops only, nothing read back."""
        self._step += 1
        self.last_loss = loss.detach().to(self._sums.dtype)
        self._sums += torch.stack([self.last_loss, grad_norm.detach().to(self._sums.dtype)])
        first_bad_here = ~torch.isfinite(loss) & (self._first_bad_step == NO_STEP)
        self._first_bad_step = torch.where(first_bad_here, self._step, self._first_bad_step)
        self._first_bad_loss = torch.where(first_bad_here, self.last_loss, self._first_bad_loss)
        self.steps += 1

    def first_non_finite(self, info: DistributedInfo) -> tuple[int, float] | None:
        """(step, loss) of the first NaN/inf loss on any rank, or None: one sync, one all-reduce over ranks.

        Under torchrun the loss is this rank's, or nan when another rank saw the non-finite loss first.
        """
        first = self._first_bad_step.clone()
        if info.is_distributed:
            dist.all_reduce(first, op=dist.ReduceOp.MIN)
        step = int(first.item())
        if step == NO_STEP:
            return None
        return step, self._first_bad_loss.item() if step == self._first_bad_step.item() else float("nan")

    def read(self, info: DistributedInfo) -> tuple[float, float, int]:
        """(mean loss over ranks and steps, mean grad norm, steps) since the last read; then a new window starts."""
        loss_sum, norm_sum = self._sums.unbind()
        if info.is_distributed:  # the norm is of the all-reduced gradient already: the same on every rank
            loss_sum = loss_sum.clone()
            dist.all_reduce(loss_sum, op=dist.ReduceOp.SUM)
            loss_sum /= info.world_size
        loss_sum, norm_sum = loss_sum.item(), norm_sum.item()
        steps = self.steps
        self._sums.zero_()
        self.steps = 0
        return loss_sum / steps, norm_sum / steps, steps

    def latest_loss(self, info: DistributedInfo) -> float:
        """The mean over ranks of the latest step's loss (what a checkpoint records)."""
        loss = self.last_loss.clone()
        if info.is_distributed:
            dist.all_reduce(loss, op=dist.ReduceOp.SUM)
            loss /= info.world_size
        return loss.item()
