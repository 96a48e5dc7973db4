"""`Trainer`: the training loop, with exact resume, evaluation, callbacks, mixed precision and data parallelism.

The model holds no training concern. The trainer applies, from outside and in this order: move to the device,
DistributedDataParallel (when launched by torchrun), `torch.compile`. `trainer.model` stays the plain model.

One optimizer step = `gradient_accumulation_steps` micro-batches of `train_batch_size` sequences on every rank:
global batch = train_batch_size × world_size × gradient_accumulation_steps sequences.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import signal
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import Dataset

from ailab.framing import framing_of
from ailab.io import atomic_directory
from ailab.token_ids import check_token_ids
from ailab.trainers import checkpoint as ckpt
from ailab.trainers.callbacks import ProgressCallback, TrainerCallback, TrainerState
from ailab.trainers.config import TrainingConfig
from ailab.trainers.distributed import (
    all_reduce_sum,
    barrier,
    device_for_rank,
    distributed_info_from_env,
    init_distributed,
    wrap_ddp,
)
from ailab.trainers.optim import build_optimizer
from ailab.trainers.precision import autocast_context, build_grad_scaler, resolve_mixed_precision
from ailab.trainers.reproducibility import configure_cpu_threads
from ailab.trainers.sampler import ShuffledBatchSampler, collate
from ailab.trainers.schedulers import LRScheduler
from ailab.trainers.step_metrics import StepMetrics
from ailab.trainers.throughput import model_flops_utilization, peak_bf16_flops


class TrainingInterrupted(RuntimeError):
    """Raised by `Trainer.train` after SIGINT/SIGTERM: the step finished and a checkpoint was saved.

    `exit_code` (128 + signal number: 130 for Ctrl-C, 143 for SIGTERM) is what a command-line entry point should exit
    with, after printing the message.
    """

    def __init__(self, signal_number: int, step: int, checkpoint_dir: Path) -> None:
        self.signal_number = signal_number
        self.step = step
        self.checkpoint_dir = checkpoint_dir
        self.exit_code = 128 + signal_number
        name = signal.Signals(signal_number).name
        super().__init__(
            f"training stopped by {name} after step {step}; checkpoint saved to {checkpoint_dir}. "
            "Resume with trainer.train(resume_from_checkpoint='latest') (or run the same `ailab train` "
            "command again: it resumes from the newest checkpoint)."
        )


class NonFiniteLossError(RuntimeError):
    """The training loss became NaN or infinite."""


class Trainer:
    """Trains `model` (anything with `model(input_ids, labels=...).loss`, `save_pretrained`, `config`)."""

    def __init__(
        self,
        model: nn.Module,
        tokenizer: Any,
        args: TrainingConfig,
        train_dataset: Dataset,
        eval_dataset: Dataset | None = None,
        callbacks: list[TrainerCallback] | None = None,
    ) -> None:
        self.args = args
        self.tokenizer = tokenizer
        self.train_dataset = train_dataset
        self.eval_dataset = eval_dataset
        self.callbacks = [ProgressCallback()] if callbacks is None else list(callbacks)
        if args.eval_steps is not None and eval_dataset is None:
            raise ValueError(
                "TrainingConfig.eval_steps is set but Trainer got no eval_dataset; pass one or set eval_steps=None"
            )

        self.cpu_threads = configure_cpu_threads()  # before any math: a fixed team size, so the bits do not drift
        self.dist = distributed_info_from_env()
        self.device = device_for_rank(args.device, self.dist)
        init_distributed(self.dist, self.device)
        self.precision = resolve_mixed_precision(args.mixed_precision, self.device)

        self.seq_len = int(torch.as_tensor(train_dataset[0]["input_ids"]).shape[-1])
        self.sampler = ShuffledBatchSampler(
            len(train_dataset), args.train_batch_size, seed=args.seed, rank=self.dist.rank,
            world_size=self.dist.world_size,
        )  # fmt: skip
        self.max_steps = args.max_steps or math.ceil(
            args.num_train_epochs * self.sampler.batches_per_epoch / args.gradient_accumulation_steps
        )
        if args.warmup_steps >= self.max_steps:
            raise ValueError(
                f"TrainingConfig.warmup_steps ({args.warmup_steps}) must be smaller than the number of training "
                f"steps ({self.max_steps}); lower warmup_steps or train longer"
            )
        self.tokens_per_step = (
            args.train_batch_size * self.seq_len * args.gradient_accumulation_steps * self.dist.world_size
        )

        self.model = model.to(self.device)
        self.optimizer = build_optimizer(
            self.model, learning_rate=args.learning_rate, weight_decay=args.weight_decay,
            betas=args.adam_betas, device=self.device,
        )  # fmt: skip
        self.scheduler = LRScheduler(
            self.optimizer, max_steps=self.max_steps, warmup_steps=args.warmup_steps,
            learning_rate=args.learning_rate, min_learning_rate=args.min_learning_rate, schedule=args.lr_scheduler,
        )  # fmt: skip
        self.scaler = build_grad_scaler(self.precision, self.device)

        self._ddp = wrap_ddp(self.model, self.device) if self.dist.is_distributed else None
        self._train_model: nn.Module = self._ddp if self._ddp is not None else self.model
        if args.compile:
            self._train_model = torch.compile(self._train_model)

        self.state = TrainerState(max_steps=self.max_steps)
        self._stop_signal: int | None = None
        self._first_signal_time = 0.0
        self._last_loss: float | None = None

    # ------------------------------------------------------------------ public API

    def train(self, resume_from_checkpoint: str | Path | None = None) -> dict[str, Any]:
        """Train to `max_steps`, optionally resuming from a checkpoint folder or "latest" (fresh start if none).

        Returns {"global_step", "train_loss" (last logged), "eval_loss", "best_eval_loss", "train_runtime_s"}.
        Raises TrainingInterrupted after SIGINT/SIGTERM (checkpoint saved) and NonFiniteLossError on NaN/inf loss.
        """
        found = self._read_resume_checkpoint(resume_from_checkpoint)
        if self.dist.is_main_process:
            ckpt.remove_stale_checkpoint_temporaries(self.args.output_dir)
        if found is None:
            self._seed_everything()
            self.state = TrainerState(max_steps=self.max_steps)
        else:
            self._load_checkpoint(found)
        start = time.perf_counter()
        self._stop_signal = None
        previous_handlers = self._install_signal_handlers()
        self._callback("on_train_begin", self.state)
        try:
            self._train_loop()
        finally:
            self._restore_signal_handlers(previous_handlers)
            self._callback("on_train_end", self.state)
        return {
            "global_step": self.state.global_step,
            "train_loss": self._last_loss,
            "eval_loss": self.state.last_eval_loss,
            "best_eval_loss": self.state.best_eval_loss,
            "train_runtime_s": time.perf_counter() - start,
        }

    def evaluate(self) -> dict[str, float]:
        """Loss over the first `eval_batches` batches of the eval set (all of it if None), read in order, sharded over
        the ranks: {"eval_loss"}, plus "eval_bits_per_byte" when the eval set knows its bytes (`EvaluationWindows`).

        The same computation as the `evaluate` stage (`ailab.evaluation.evaluate_windows`), in the training precision.
        """
        from ailab.evaluation import evaluate_windows  # imported here: ailab.evaluation imports ailab.trainers

        if self.eval_dataset is None:
            raise ValueError("Trainer.evaluate() needs an eval_dataset; pass eval_dataset=... to Trainer")
        metrics = evaluate_windows(
            self.model, self.eval_dataset, batch_size=self.args.train_batch_size, max_batches=self.args.eval_batches,
            device=self.device, precision=self.precision, rank=self.dist.rank, world_size=self.dist.world_size,
        )  # fmt: skip
        result = {"eval_loss": metrics["val_loss"]}
        if "bits_per_byte" in metrics:
            result["eval_bits_per_byte"] = metrics["bits_per_byte"]
        return result

    def save_model(self, output_dir: str | Path) -> None:
        """Write the final model (safetensors + config.json) and the tokenizer, if any, atomically (rank 0)."""
        if self.dist.is_main_process:
            with atomic_directory(output_dir) as tmp:
                self._save_model_files(tmp)
        barrier(self.dist)

    # ------------------------------------------------------------------ the loop

    def _train_loop(self) -> None:
        """Steps queue device work only; the host reads the device at sync points: log, eval, save, last step."""
        args, state = self.args, self.state
        self._train_model.train()
        metrics = StepMetrics(self.device, state.global_step)
        window_start, paused = time.perf_counter(), 0.0
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        while state.global_step < state.max_steps:
            lr = self.scheduler.apply()
            loss, grad_norm = self._optimizer_step()
            metrics.add(loss, grad_norm)
            state.global_step += 1
            state.epoch = self.sampler.epoch + self.sampler.batch_index / self.sampler.batches_per_epoch

            last_step = state.global_step == state.max_steps
            log_due = state.global_step % args.logging_steps == 0 or last_step
            eval_due = bool(args.eval_steps) and (state.global_step % args.eval_steps == 0 or last_step)
            save_due = bool(args.save_steps) and (state.global_step % args.save_steps == 0 or last_step)
            stop = False
            if log_due or eval_due or save_due:
                stop = self._sync_point(metrics)
            if log_due:
                loss_mean, norm_mean, steps = metrics.read(self.dist)
                self._last_loss = loss_mean
                tokens_per_second = steps * self.tokens_per_step / (time.perf_counter() - window_start - paused)
                self._callback("on_log", state, self._logs(loss_mean, lr, norm_mean, tokens_per_second))
                window_start, paused = time.perf_counter(), 0.0

            pause_start = time.perf_counter()
            if eval_due and self.eval_dataset is not None:
                self._evaluate_and_track()
            if save_due:
                self._save_checkpoint(metrics)
            paused += time.perf_counter() - pause_start

            self._callback("on_step_end", state)
            # one process acts on a signal as soon as the step is done; ranks act on the vote of a sync point
            if stop or (self._stop_signal is not None and not self.dist.is_distributed):
                self._interrupt(metrics)

    def _sync_point(self, metrics: StepMetrics) -> bool:
        """Stop on a non-finite loss since the last sync point; return whether any rank was asked to stop."""
        bad = metrics.first_non_finite(self.dist)
        if bad is not None:
            self._raise_non_finite(*bad)
        if not self.dist.is_distributed:
            return self._stop_signal is not None
        votes = torch.tensor([1.0 if self._stop_signal is not None else 0.0], device=self.device)
        all_reduce_sum(votes, self.dist)
        return votes.item() > 0

    def _evaluate_and_track(self) -> None:
        metrics = self.evaluate()
        self.state.last_eval_loss = metrics["eval_loss"]
        if self.state.best_eval_loss is None or metrics["eval_loss"] < self.state.best_eval_loss:
            self.state.best_eval_loss = metrics["eval_loss"]
        self._callback("on_evaluate", self.state, {**metrics, "best_eval_loss": self.state.best_eval_loss})

    def _optimizer_step(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Accumulate gradients over the micro-batches, clip, step: (mean loss, pre-clip norm), both on the device.

        Nothing here reads a device value on the host, so on CUDA the next step is queued while this one runs.
        """
        accum = self.args.gradient_accumulation_steps
        step_loss = torch.zeros((), device=self.device)
        for micro_step in range(accum):
            batch = collate(self.train_dataset, self.sampler.next_batch())
            self._check_batch(batch)
            batch = self._to_device(batch)
            last_micro = micro_step == accum - 1
            sync = contextlib.nullcontext() if self._ddp is None or last_micro else self._ddp.no_sync()
            with sync:
                with autocast_context(self.precision, self.device):
                    loss = self._train_model(batch["input_ids"], labels=batch["labels"]).loss / accum
                self.scaler.scale(loss).backward()
            step_loss += loss.detach().float()

        self.scaler.unscale_(self.optimizer)
        max_norm = self.args.max_grad_norm if self.args.max_grad_norm > 0 else math.inf
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), max_norm)
        self.scaler.step(self.optimizer)  # skipped by the fp16 scaler when gradients overflowed
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        self.scheduler.step()
        return step_loss, grad_norm

    def _interrupt(self, metrics: StepMetrics) -> None:
        """Checkpoint the step just finished (unless save_steps already did) and raise TrainingInterrupted."""
        path = ckpt.checkpoint_dir(self.args.output_dir, self.state.global_step)
        if self.state.last_checkpoint != str(path):
            self._sync_point(metrics)  # never save weights that a non-finite loss has reached
            self._save_checkpoint(metrics)
        raise TrainingInterrupted(self._stop_signal or signal.SIGTERM, self.state.global_step, path)

    def _logs(self, loss: float, lr: float, grad_norm: float, tokens_per_second: float) -> dict[str, float]:
        logs = {
            "step": self.state.global_step,
            "epoch": self.state.epoch,
            "loss": loss,
            "learning_rate": lr,
            "grad_norm": grad_norm,
            "tokens_per_second": tokens_per_second,
        }
        if self.device.type == "cuda":
            logs["peak_memory_gib"] = torch.cuda.max_memory_allocated(self.device) / 2**30
        peak = self.args.peak_flops or peak_bf16_flops(self.device)
        if peak is not None and hasattr(self.model, "flops_per_token"):
            per_device = tokens_per_second / self.dist.world_size
            logs["mfu"] = model_flops_utilization(self.model.flops_per_token(self.seq_len), per_device, peak)
        return logs

    def _raise_non_finite(self, step: int, loss_value: float) -> None:
        last_good = ckpt.latest_checkpoint(self.args.output_dir)
        where = f"last good checkpoint: {last_good}" if last_good else f"no checkpoint in {self.args.output_dir}"
        raise NonFiniteLossError(
            f"loss is {loss_value} at step {step}; {where}. "
            "Lower learning_rate, raise warmup_steps or lower max_grad_norm, then restart "
            "(or resume from that checkpoint)."
        )

    # ------------------------------------------------------------------ checkpoints

    def resume_config(self) -> dict[str, Any]:
        """The settings that must be equal for a resumed run to continue the same run (compared on resume)."""
        a = self.args
        config = getattr(self.model, "config", None)
        model_config = config.to_dict() if hasattr(config, "to_dict") else None
        resume = {
            "model": model_config,
            "learning_rate": a.learning_rate,
            "min_learning_rate": a.min_learning_rate,
            "warmup_steps": a.warmup_steps,
            "lr_scheduler": a.lr_scheduler,
            "weight_decay": a.weight_decay,
            "adam_betas": list(a.adam_betas),
            "max_grad_norm": a.max_grad_norm,
            "train_batch_size": a.train_batch_size,
            "gradient_accumulation_steps": a.gradient_accumulation_steps,
            "max_steps": self.max_steps,
            "seed": a.seed,
            "mixed_precision": self.precision,
            "world_size": self.dist.world_size,
            "train_dataset_length": len(self.train_dataset),
            "sequence_length": self.seq_len,
        }
        return json.loads(json.dumps(resume))  # the form it takes after a JSON round trip

    def checkpoint_to_resume(self, resume_from_checkpoint: str | Path | None = "latest") -> Path | None:
        """The checkpoint `train(resume_from_checkpoint)` would continue from, read and checked, or None.

        "latest" is the newest intact checkpoint in output_dir (damaged ones are skipped with a warning). Raises
        ValueError naming the settings that differ from the checkpoint's, and DamagedCheckpointError (a ValueError)
        when a named checkpoint, or every one in output_dir, cannot be read back. Reads and writes nothing else.
        """
        found = self._read_resume_checkpoint(resume_from_checkpoint)
        return found.path if found is not None else None

    def _read_resume_checkpoint(self, resume_from_checkpoint: str | Path | None) -> ckpt.Checkpoint | None:
        if resume_from_checkpoint is None:
            return None
        if resume_from_checkpoint == "latest":
            found = ckpt.newest_intact_checkpoint(self.args.output_dir)
        else:
            path = Path(resume_from_checkpoint)
            if not (path / ckpt.TRAINER_STATE_FILE).is_file():
                raise FileNotFoundError(
                    f"{path} is not a checkpoint folder (no {ckpt.TRAINER_STATE_FILE}); pass a checkpoint-STEP "
                    f"folder from {self.args.output_dir}, 'latest', or None"
                )
            found = ckpt.read_checkpoint(path)
        if found is not None:
            differences = ckpt.resume_config_differences(found.metadata["resume_config"], self.resume_config())
            if differences:
                raise ValueError(
                    f"cannot resume from {found.path}: the run's settings changed since it was written:\n  "
                    + "\n  ".join(differences)
                    + "\nRestore these settings, or train from scratch in a new output_dir (not "
                    f"{self.args.output_dir}; `ailab train --restart` discards the old checkpoints)."
                )
        return found

    def _load_checkpoint(self, found: ckpt.Checkpoint) -> None:
        training_state = found.training_state
        ckpt.load_model_weights(self.model, found.path, found.weights)
        self.optimizer.load_state_dict(training_state["optimizer"])
        self.scheduler.load_state_dict(training_state["scheduler"])
        self.scaler.load_state_dict(training_state["scaler"])
        self.sampler.load_state_dict(training_state["sampler"])
        self.state = TrainerState(max_steps=self.max_steps)
        self.state.load_state_dict(training_state["trainer"])
        self.state.last_checkpoint = str(found.path)
        self._last_loss = found.metadata.get("loss")
        ckpt.set_rng_state(training_state["rng"][self.dist.rank])

    def _save_checkpoint(self, metrics: StepMetrics) -> None:
        path = ckpt.checkpoint_dir(self.args.output_dir, self.state.global_step)
        loss = metrics.latest_loss(self.dist)
        rng_states = [ckpt.rng_state()]
        if self.dist.is_distributed:
            rng_states = [None] * self.dist.world_size
            dist.all_gather_object(rng_states, ckpt.rng_state())
        self.state.last_checkpoint = str(path)
        if self.dist.is_main_process:
            resume = self.resume_config()
            training_state = {
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "scaler": self.scaler.state_dict(),
                "sampler": self.sampler.state_dict(),
                "trainer": self.state.state_dict(),
                "rng": rng_states,
            }
            metadata = {
                "step": self.state.global_step,
                "epoch": self.state.epoch,
                "loss": loss,
                "eval_loss": self.state.last_eval_loss,
                "best_eval_loss": self.state.best_eval_loss,
                "training_config": self.args.to_dict(),
                "resume_config": resume,
                "resume_config_fingerprint": ckpt.config_fingerprint(resume),
                "torch_version": torch.__version__,
            }
            ckpt.save_checkpoint(path, save_model=self._save_model_files, training_state=training_state,
                                 metadata=metadata)  # fmt: skip
            if self.args.save_total_limit is not None:
                ckpt.prune_checkpoints(self.args.output_dir, self.args.save_total_limit)
            self._callback("on_save", self.state, path)
        barrier(self.dist)

    def _save_model_files(self, directory: Path) -> None:
        """Weights, config, tokenizer and the training data's document framing: a directory generation can use."""
        self.model.save_pretrained(directory)
        if self.tokenizer is not None and hasattr(self.tokenizer, "save"):
            self.tokenizer.save(directory)
        framing = framing_of(self.train_dataset)
        if framing is not None:
            framing.save(directory)

    # ------------------------------------------------------------------ plumbing

    def _check_batch(self, batch: dict[str, torch.Tensor]) -> None:
        """Refuse token ids the model has no embedding for, while the batch is still on the host (no device wait)."""
        vocab_size = getattr(getattr(self.model, "config", None), "vocab_size", None)
        if vocab_size is not None:
            check_token_ids(
                batch["input_ids"],
                vocab_size,
                name="the training data",
                fix="it was tokenized for another model; re-tokenize it with this model's tokenizer (re-run prepare)",
            )

    def _to_device(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        if self.device.type == "cuda":
            return {k: v.pin_memory().to(self.device, non_blocking=True) for k, v in batch.items()}
        return {k: v.to(self.device) for k, v in batch.items()}

    def _seed_everything(self) -> None:
        """Seed python, numpy and torch; each rank gets seed + rank so dropout masks differ across ranks."""
        seed = self.args.seed + self.dist.rank
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)

    def _callback(self, event: str, *payload: Any) -> None:
        if self.dist.is_main_process:
            for callback in self.callbacks:
                getattr(callback, event)(*payload)

    def _install_signal_handlers(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        previous = {}
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, self._on_signal)
        return previous

    @staticmethod
    def _restore_signal_handlers(previous: dict[int, Any]) -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    def _on_signal(self, signum: int, frame: Any) -> None:
        """First SIGINT/SIGTERM: finish the step, checkpoint, stop. Another one 2 s or more later: stop now."""
        now = time.monotonic()
        if self._stop_signal is not None:
            if now - self._first_signal_time >= 2.0:
                raise KeyboardInterrupt(f"second {signal.Signals(signum).name}: stopping without a checkpoint")
            return  # torchrun relays one Ctrl-C as SIGINT + SIGTERM: count them once
        self._stop_signal, self._first_signal_time = signum, now
        if self.dist.is_main_process:
            print(
                f"\n{signal.Signals(signum).name} received: finishing the current step, then saving a checkpoint "
                "(send it again to stop at once, without saving)",
                flush=True,
            )
