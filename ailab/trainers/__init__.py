"""Training: `Trainer` + `TrainingConfig`, with exact resume, evaluation, callbacks, mixed precision and DDP."""

from ailab.trainers.callbacks import CsvLoggerCallback, ProgressCallback, TrainerCallback, TrainerState
from ailab.trainers.config import TrainingConfig
from ailab.trainers.schedulers import LRScheduler, lr_at_step
from ailab.trainers.trainer import NonFiniteLossError, Trainer, TrainingInterrupted

__all__ = [
    "CsvLoggerCallback",
    "LRScheduler",
    "NonFiniteLossError",
    "ProgressCallback",
    "Trainer",
    "TrainerCallback",
    "TrainerState",
    "TrainingConfig",
    "TrainingInterrupted",
    "lr_at_step",
]
