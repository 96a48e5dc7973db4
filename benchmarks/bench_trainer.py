"""Trainer throughput beside the bare model step, so the trainer's own overhead is visible.

For each model size it times, on the same batches and precision:
- `model step`: forward + backward + clip + AdamW + zero_grad in a plain loop on batches already on the device;
- `trainer`: `Trainer.train` steady state (data indexing and collation, loss sync, logging every 10 steps,
  callbacks), measured between `on_step_end` events after the warmup steps;
both as the median step time, in wall-clock seconds and in this process's CPU seconds (with --threads 1 on a CPU
shared with other jobs, CPU time measures the work done and is not inflated by waiting for a core);
- `data per step`: picking and stacking one micro-batch as the trainer does (sampler + collate), timed alone;
- one checkpoint save (model + optimizer + RNG + metadata), reported separately.

    python benchmarks/bench_trainer.py                       # default (params.yaml model) + GPT-2 12L/768, no compile
    python benchmarks/bench_trainer.py --compile both        # also with torch.compile (slow to compile on CPU)
    python benchmarks/bench_trainer.py --sizes default --steps 30
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import tempfile
import time
from dataclasses import dataclass

import torch

from ailab.models.gpt2 import GPT2Config, GPT2Model
from ailab.trainers import Trainer, TrainerCallback, TrainingConfig
from ailab.trainers.optim import build_optimizer
from ailab.trainers.precision import autocast_context, resolve_mixed_precision
from ailab.trainers.sampler import ShuffledBatchSampler, collate
from ailab.trainers.step_metrics import StepMetrics
from ailab.trainers.throughput import peak_bf16_flops


@dataclass
class Size:
    name: str
    config: GPT2Config
    batch_size: int
    seq_len: int


def sizes(device: torch.device) -> dict[str, Size]:
    on_cpu = device.type == "cpu"
    return {
        # the model and batch of params.yaml (gpt2, 4 layers, d_model 128, n_ctx 128, vocab 8192, batch 16)
        "default": Size(
            "default 4L/128",
            GPT2Config(vocab_size=8192, n_ctx=128, n_layers=4, d_model=128, n_heads=4, eos_token_id=0),
            16,
            128,
        ),
        # GPT-2 small; on CPU a short batch so that a step takes seconds, not minutes
        "gpt2": Size(
            "GPT-2 12L/768", GPT2Config.from_preset("gpt2-small"), 2 if on_cpu else 16, 128 if on_cpu else 1024
        ),
    }


class WindowDataset(torch.utils.data.Dataset):
    def __init__(self, n: int, seq_len: int, vocab_size: int) -> None:
        self.data = torch.randint(0, vocab_size, (n, seq_len), generator=torch.Generator().manual_seed(0))

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.data[i], "labels": self.data[i]}


class StepClock(TrainerCallback):
    def __init__(self) -> None:
        self.times: list[tuple[float, float]] = []

    def on_step_end(self, state) -> None:
        self.times.append(now())


def now() -> tuple[float, float]:
    """(wall-clock, process CPU) seconds."""
    return time.perf_counter(), time.process_time()


def median_steps(times: list[tuple[float, float]]) -> tuple[float, float]:
    """Median (wall, CPU) seconds between consecutive time stamps."""
    pairs = list(zip(times, times[1:]))
    return (statistics.median(b[0] - a[0] for a, b in pairs), statistics.median(b[1] - a[1] for a, b in pairs))


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def model_step_seconds(
    size: Size, dataset: WindowDataset, device: torch.device, precision: str, compile: bool, warmup: int, steps: int
) -> tuple[float, float]:
    """Median seconds per fwd+bwd+clip+AdamW step of a plain loop (batches pre-loaded on the device)."""
    torch.manual_seed(0)
    model = GPT2Model(size.config).to(device)
    optimizer = build_optimizer(model, learning_rate=1e-4, weight_decay=0.1, betas=(0.9, 0.95), device=device)
    step_model = torch.compile(model) if compile else model
    batches = [dataset.data[i * size.batch_size : (i + 1) * size.batch_size].to(device) for i in range(warmup + steps)]
    times = [now()]
    for x in batches:
        with autocast_context(precision, device):
            loss = step_model(x, labels=x).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        sync(device)
        times.append(now())
    return median_steps(times[warmup:])


def trainer_step_seconds(
    size: Size, dataset: WindowDataset, device: torch.device, compile: bool, warmup: int, steps: int
) -> tuple[tuple[float, float], float]:
    """Median (wall, CPU) seconds per Trainer step in steady state, and the seconds one checkpoint save takes."""
    torch.manual_seed(0)
    clock = StepClock()
    with tempfile.TemporaryDirectory() as out:
        args = TrainingConfig(
            output_dir=out,
            max_steps=warmup + steps,
            warmup_steps=1,
            train_batch_size=size.batch_size,
            logging_steps=10,
            compile=compile,
            device=str(device),
        )
        trainer = Trainer(GPT2Model(size.config), None, args, dataset, callbacks=[clock])
        trainer.train()
        start = time.perf_counter()
        trainer._save_checkpoint(StepMetrics(trainer.device, trainer.state.global_step))
        save_seconds = time.perf_counter() - start
    return median_steps(clock.times[warmup - 1 :]), save_seconds


def data_seconds(size: Size, dataset: WindowDataset, repeats: int = 50) -> float:
    """Median seconds to pick and stack one micro-batch the way the trainer does (sampler + collate)."""
    sampler = ShuffledBatchSampler(len(dataset), size.batch_size, seed=0)
    times = [now()]
    for _ in range(repeats):
        collate(dataset, sampler.next_batch())
        times.append(now())
    return median_steps(times)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="default,gpt2")
    parser.add_argument("--compile", choices=("no", "yes", "both"), default="no")
    parser.add_argument("--steps", type=int, default=None, help="timed steps (default: 30 small / 4 GPT-2 on CPU)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's choice)")
    a = parser.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)

    device = torch.device(
        "cuda" if a.device == "auto" and torch.cuda.is_available() else ("cpu" if a.device == "auto" else a.device)
    )
    precision = resolve_mixed_precision("auto", device)
    peak = peak_bf16_flops(device)
    compile_modes = {"no": [False], "yes": [True], "both": [False, True]}[a.compile]
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu"
    print(
        f"device {device} ({name}), precision {precision}, torch {torch.__version__}, threads {torch.get_num_threads()}"
    )
    print(
        "| model | batch × seq | compile | model step wall / CPU (ms) | trainer step wall / CPU (ms) "
        "| overhead wall / CPU | data per step (ms) | trainer tokens/s (wall) | MFU | checkpoint save (s) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for key in a.sizes.split(","):
        size = sizes(device)[key]
        steps = a.steps or (30 if key == "default" or device.type == "cuda" else 4)
        dataset = WindowDataset((a.warmup + steps) * size.batch_size, size.seq_len, size.config.vocab_size)
        for compile in compile_modes:
            raw, raw_cpu = model_step_seconds(size, dataset, device, precision, compile, a.warmup, steps)
            (step, step_cpu), save = trainer_step_seconds(size, dataset, device, compile, a.warmup, steps)
            data = data_seconds(size, dataset)
            tokens_per_s = size.batch_size * size.seq_len / step
            flops = GPT2Model(size.config).flops_per_token(size.seq_len) if peak else math.nan
            mfu = f"{flops * tokens_per_s / peak:.1%}" if peak else "n/a"
            print(
                f"| {size.name} | {size.batch_size} × {size.seq_len} | {'yes' if compile else 'no'} "
                f"| {raw * 1e3:.1f} / {raw_cpu * 1e3:.1f} | {step * 1e3:.1f} / {step_cpu * 1e3:.1f} "
                f"| {(step - raw) / raw:+.1%} / {(step_cpu - raw_cpu) / raw_cpu:+.1%} | {data * 1e3:.3f} "
                f"| {tokens_per_s:,.0f} "
                f"| {mfu} | {save:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
