"""A tiny, fully seeded GPT-2 training run, importable by the tests and runnable as a script (subprocess, torchrun).

python tests/trainers/tiny_training.py --output-dir DIR --max-steps 8 [--kill-at-step K] [--term-at-step K]
    [--resume latest] [--dropout 0.1] [--batch-size 4] [--accum 1] [--losses-file F] [--final-dir D] [--compile]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

import torch

from ailab.models.gpt2 import GPT2Config, GPT2Model
from ailab.trainers import Trainer, TrainerCallback, TrainingConfig, TrainingInterrupted
from ailab.trainers.distributed import teardown_distributed

VOCAB, SEQ_LEN = 64, 16


class TokenWindows(torch.utils.data.Dataset):
    """Seeded random token windows with a learnable pattern (each token is often its predecessor + 1)."""

    def __init__(self, n: int, seed: int = 0) -> None:
        g = torch.Generator().manual_seed(seed)
        start = torch.randint(0, VOCAB, (n, 1), generator=g)
        noise = (torch.rand(n, SEQ_LEN, generator=g) < 0.2) * torch.randint(0, VOCAB, (n, SEQ_LEN), generator=g)
        self.data = (start + torch.arange(SEQ_LEN) + noise) % VOCAB

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.data[i], "labels": self.data[i]}


def tiny_model(dropout: float = 0.0, seed: int = 0) -> GPT2Model:
    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=VOCAB, n_ctx=32, n_layers=2, d_model=32, n_heads=2, d_ff=64, dropout=dropout, eos_token_id=0
    )
    return GPT2Model(config)


def tiny_config(output_dir: str | Path, **overrides) -> TrainingConfig:
    fields = dict(
        output_dir=str(output_dir),
        max_steps=8,
        learning_rate=3e-3,
        warmup_steps=2,
        train_batch_size=4,
        logging_steps=1,
        device="cpu",
        seed=0,
    )
    fields.update(overrides)
    return TrainingConfig(**fields)


class RecordLosses(TrainerCallback):
    """Keeps every logged row (use logging_steps=1 to see every step's loss)."""

    def __init__(self) -> None:
        self.logs: list[dict[str, float]] = []

    def on_log(self, state, logs):
        self.logs.append(dict(logs))

    @property
    def losses(self) -> dict[int, float]:
        return {int(row["step"]): row["loss"] for row in self.logs}


class SignalAtStep(TrainerCallback):
    """Sends `signum` to this very process when `step` is done (after any checkpoint of that step)."""

    def __init__(self, step: int, signum: int) -> None:
        self.step, self.signum = step, signum

    def on_step_end(self, state):
        if state.global_step == self.step:
            os.kill(os.getpid(), self.signum)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--output-dir", required=True)
    parser.add_argument("--max-steps", type=int, default=8)
    parser.add_argument("--save-steps", type=int, default=None)
    parser.add_argument("--kill-at-step", type=int, default=None)
    parser.add_argument("--term-at-step", type=int, default=None)
    parser.add_argument("--resume", default=None)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--accum", type=int, default=1)
    parser.add_argument("--losses-file", default=None)
    parser.add_argument("--final-dir", default=None)
    parser.add_argument("--compile", action="store_true")
    a = parser.parse_args()

    recorder = RecordLosses()
    callbacks: list[TrainerCallback] = [recorder]
    if a.kill_at_step is not None:
        callbacks.append(SignalAtStep(a.kill_at_step, signal.SIGKILL))
    if a.term_at_step is not None:
        callbacks.append(SignalAtStep(a.term_at_step, signal.SIGTERM))
    args = tiny_config(
        a.output_dir,
        max_steps=a.max_steps,
        save_steps=a.save_steps,
        train_batch_size=a.batch_size,
        gradient_accumulation_steps=a.accum,
        compile=a.compile,
    )
    trainer = Trainer(tiny_model(a.dropout), None, args, TokenWindows(64), callbacks=callbacks)
    try:
        trainer.train(resume_from_checkpoint=a.resume)
    except TrainingInterrupted as e:
        print(e, file=sys.stderr)
        return e.exit_code
    finally:
        if a.losses_file and trainer.dist.is_main_process:
            Path(a.losses_file).write_text(json.dumps(recorder.losses))
    if a.final_dir:
        trainer.save_model(a.final_dir)
    teardown_distributed()
    return 0


if __name__ == "__main__":
    sys.exit(main())
