"""`TrainingConfig`: every knob of a training run, validated once when it is built."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

MIXED_PRECISION_CHOICES = ("auto", "bf16", "fp16", "no")
LR_SCHEDULER_CHOICES = ("cosine", "linear", "constant")
_DEVICE_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


@dataclass
class TrainingConfig:
    """Hyper-parameters and bookkeeping of one training run (one of `num_train_epochs` / `max_steps`)."""

    output_dir: str
    """Directory for `checkpoint-STEP/` folders; created on first save."""
    num_train_epochs: float | None = None
    """Passes over the training set; `max_steps` is derived from it (give exactly one of the two)."""
    max_steps: int | None = None
    """Optimizer steps to train for; the number of epochs is derived from it."""
    learning_rate: float = 5e-4
    """Peak learning rate, reached at the end of the warmup."""
    min_learning_rate: float = 0.0
    """Learning rate at the last step (end of the cosine or linear decay)."""
    warmup_steps: int = 1000
    """Steps of linear warmup from ~0 to `learning_rate`; must be smaller than the number of steps."""
    lr_scheduler: str = "cosine"
    """Shape of the decay after warmup: "cosine", "linear" or "constant"."""
    weight_decay: float = 0.1
    """AdamW decoupled weight decay, applied to weight matrices only (not biases, norms, embeddings)."""
    adam_betas: tuple[float, float] = (0.9, 0.95)
    """AdamW (beta1, beta2)."""
    max_grad_norm: float = 1.0
    """Clip the global gradient norm to this value; 0 disables clipping (the norm is still logged)."""
    train_batch_size: int = 16
    """Sequences per micro-batch per process. Global batch = train_batch_size × world size × accumulation."""
    gradient_accumulation_steps: int = 1
    """Micro-batches whose gradients are summed before each optimizer step."""
    eval_steps: int | None = None
    """Evaluate every this many steps (and at the last step); None = only when `evaluate()` is called."""
    eval_batches: int | None = None
    """Batches of `train_batch_size` read (in order) from the eval set per evaluation; None = all of it."""
    save_steps: int | None = None
    """Write a checkpoint every this many steps and at the last step; None = only on SIGINT/SIGTERM."""
    save_total_limit: int | None = None
    """Keep at most this many checkpoints, deleting the oldest; None keeps all."""
    logging_steps: int = 100
    """Report loss, learning rate, grad norm, throughput to the callbacks every this many steps."""
    mixed_precision: str = "auto"
    """"bf16" autocast, "fp16" autocast + gradient scaler, "no", or "auto" (bf16 on CUDA if supported, else "no")."""
    compile: bool = False
    """Apply `torch.compile` to the model (from outside; the model itself is unchanged)."""
    peak_flops: float | None = None
    """The device's peak FLOP/s for the `mfu` log; None looks up the CUDA card's dense bf16 peak by name (no MFU
    on unknown cards and on the CPU). Set it for a card missing from the table or to measure against another peak."""
    seed: int = 0
    """Seeds python, numpy and torch at the start of a fresh run and the data order of every epoch."""
    device: str = "auto"
    """"auto" (CUDA, then MPS, then CPU; under torchrun each rank its own GPU), "cpu", "cuda", "cuda:N" or "mps"."""

    def __post_init__(self) -> None:
        self.adam_betas = tuple(self.adam_betas)  # YAML/JSON give lists
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the first field with an invalid value."""
        if not self.output_dir:
            _fail("output_dir", self.output_dir, "a directory path")
        if (self.num_train_epochs is None) == (self.max_steps is None):
            raise ValueError(
                "TrainingConfig: give exactly one of num_train_epochs or max_steps "
                f"(got num_train_epochs={self.num_train_epochs!r}, max_steps={self.max_steps!r}); the other is derived."
            )
        if self.num_train_epochs is not None and not self.num_train_epochs > 0:
            _fail("num_train_epochs", self.num_train_epochs, "a positive number")
        if self.max_steps is not None and not (_is_int(self.max_steps) and self.max_steps > 0):
            _fail("max_steps", self.max_steps, "a positive integer")
        for name in ("learning_rate",):
            if not getattr(self, name) > 0:
                _fail(name, getattr(self, name), "a positive number")
        if not 0 <= self.min_learning_rate <= self.learning_rate:
            _fail("min_learning_rate", self.min_learning_rate, f"between 0 and learning_rate ({self.learning_rate})")
        if not (_is_int(self.warmup_steps) and self.warmup_steps >= 0):
            _fail("warmup_steps", self.warmup_steps, "an integer >= 0")
        if self.lr_scheduler not in LR_SCHEDULER_CHOICES:
            _fail("lr_scheduler", self.lr_scheduler, f"one of {LR_SCHEDULER_CHOICES}")
        if not self.weight_decay >= 0:
            _fail("weight_decay", self.weight_decay, "a number >= 0")
        if len(self.adam_betas) != 2 or not all(0 <= b < 1 for b in self.adam_betas):
            _fail("adam_betas", self.adam_betas, "two numbers in [0, 1)")
        if not self.max_grad_norm >= 0:
            _fail("max_grad_norm", self.max_grad_norm, "a number >= 0 (0 disables clipping)")
        for name in ("train_batch_size", "gradient_accumulation_steps", "logging_steps"):
            value = getattr(self, name)
            if not (_is_int(value) and value > 0):
                _fail(name, value, "a positive integer")
        for name in ("eval_steps", "eval_batches", "save_steps", "save_total_limit"):
            value = getattr(self, name)
            if value is not None and not (_is_int(value) and value > 0):
                _fail(name, value, "a positive integer or None")
        if self.mixed_precision not in MIXED_PRECISION_CHOICES:
            _fail("mixed_precision", self.mixed_precision, f"one of {MIXED_PRECISION_CHOICES}")
        if self.peak_flops is not None and not self.peak_flops > 0:
            _fail("peak_flops", self.peak_flops, "a positive number of FLOP/s or None")
        if not isinstance(self.compile, bool):
            _fail("compile", self.compile, "true or false")
        if not _is_int(self.seed):
            _fail("seed", self.seed, "an integer")
        if not (isinstance(self.device, str) and _DEVICE_PATTERN.match(self.device)):
            _fail("device", self.device, '"auto", "cpu", "cuda", "cuda:N" or "mps"')

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict of all fields (tuples become lists)."""
        d = dataclasses.asdict(self)
        d["adam_betas"] = list(self.adam_betas)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainingConfig:
        """Inverse of `to_dict`; unknown keys are an error naming them."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"TrainingConfig: unknown field(s) {unknown}; known fields are {sorted(known)}")
        return cls(**d)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _fail(field: str, value: Any, expected: str) -> None:
    raise ValueError(f"TrainingConfig.{field} must be {expected}, got {value!r}")
