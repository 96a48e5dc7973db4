"""Learning-rate schedules: a pure function of the step, and a tiny stateful wrapper that applies it to an optimizer.

Step `s` (0-based) is the s-th optimizer update. Warmup is linear: lr·(s+1)/warmup_steps for s < warmup_steps, so the
peak is reached at step warmup_steps-1. Then the decay runs from `learning_rate` at step warmup_steps to
`min_learning_rate` at the last step (max_steps-1), cosine or linear; "constant" stays at the peak.
"""

from __future__ import annotations

import math
from typing import Any

import torch


def lr_at_step(
    step: int,
    *,
    max_steps: int,
    warmup_steps: int,
    learning_rate: float,
    min_learning_rate: float = 0.0,
    schedule: str = "cosine",
) -> float:
    """Learning rate for optimizer step `step` (0-based) of a run of `max_steps` steps."""
    if step < warmup_steps:
        return learning_rate * (step + 1) / warmup_steps
    if schedule == "constant":
        return learning_rate
    decay_steps = max(1, max_steps - 1 - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / decay_steps)
    if schedule == "cosine":
        coeff = 0.5 * (1.0 + math.cos(math.pi * progress))
    elif schedule == "linear":
        coeff = 1.0 - progress
    else:
        raise ValueError(f"unknown lr schedule {schedule!r}; use 'cosine', 'linear' or 'constant'")
    return min_learning_rate + coeff * (learning_rate - min_learning_rate)


class LRScheduler:
    """Sets every param group's lr to `lr_at_step(step)` before each optimizer step; checkpointable."""

    def __init__(self, optimizer: torch.optim.Optimizer, **schedule: Any) -> None:
        self.optimizer = optimizer
        self.schedule = schedule  # keyword arguments of lr_at_step except `step`
        self.step_count = 0

    def current_lr(self) -> float:
        return lr_at_step(self.step_count, **self.schedule)

    def apply(self) -> float:
        """Write the lr of the upcoming step into the optimizer; returns it."""
        lr = self.current_lr()
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        return lr

    def step(self) -> None:
        """Advance to the next optimizer step."""
        self.step_count += 1

    def state_dict(self) -> dict[str, Any]:
        return {"step_count": self.step_count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step_count = int(state["step_count"])
