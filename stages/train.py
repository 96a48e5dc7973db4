"""Stage `train`: train the model named in params on the packed corpus; also the `torchrun -m stages.train` entry.

An interrupted run (Ctrl-C, SIGTERM, a crash, a killed job) resumes from its newest checkpoint when the command is
run again with the same params; with changed params it refuses and names what changed. A finished run's
checkpoints are cleared when training starts again, since its result is the final model in artifacts/model.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Annotated

import torch
import typer
from filelock import FileLock, Timeout

from ailab.datasets import PackedTokens, PackedWindowDataset
from ailab.evaluation import EvaluationWindows
from ailab.io import atomic_write_text
from ailab.models import build_model
from ailab.tokenizers import load_tokenizer
from ailab.trainers import CsvLoggerCallback, ProgressCallback, Trainer, TrainingInterrupted
from ailab.trainers.checkpoint import DamagedCheckpointError, latest_checkpoint, load_metadata
from ailab.trainers.distributed import teardown_distributed
from ailab.trainers.reproducibility import runtime_info
from pipeline.lineage import log_corpus, log_trained_model
from pipeline.mlflow_callback import MLflowCallback
from pipeline.params import Params, load_params
from pipeline.paths import PipelinePaths
from pipeline.tracking import log_artifacts, log_flat_metrics, log_params, recall_run, remember_run, stage_run
from stages.options import DeviceOption, ParamsOption, reports_errors


@contextmanager
def training_lock(lock_file: Path) -> Iterator[None]:
    """Hold `lock_file` for the whole training: a second `ailab train` on the same outputs refuses at once.

    The holder's PID goes into `lock_file` + `.pid`, for the refusal to name. The OS drops the lock when the holder
    dies, even by SIGKILL, so a stale PID file never blocks anyone.
    """
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(lock_file, timeout=0)
    pid_file = lock_file.with_name(lock_file.name + ".pid")
    try:
        lock.acquire()
    except Timeout:
        holder = pid_file.read_text().strip() if pid_file.is_file() else "unknown"
        raise ValueError(
            f"another `ailab train` (PID {holder}) is training in {lock_file.parent} (it holds {lock_file}); "
            f"wait for it to finish or stop it (kill {holder}), then run the command again"
        ) from None
    try:
        atomic_write_text(pid_file, f"{os.getpid()}\n")
        yield
    finally:
        pid_file.unlink(missing_ok=True)
        lock.release()


def clear_finished_run(checkpoints_dir: Path) -> None:
    """Remove checkpoints of a run that reached its own last step: only an unfinished run is resumed."""
    latest = latest_checkpoint(checkpoints_dir)
    if latest is None:
        return
    try:
        metadata = load_metadata(latest)
    except DamagedCheckpointError:
        return  # resuming skips it, with a warning naming it
    if metadata["step"] >= metadata["resume_config"]["max_steps"]:
        shutil.rmtree(checkpoints_dir)


def build_trainer(config: Params, paths: PipelinePaths, device: str, callbacks: list) -> Trainer:
    """Model, datasets and trainer exactly as the params describe them."""
    tokenizer = load_tokenizer(paths.tokenizer_dir)
    train_tokens = PackedTokens(paths.tokens("train"))
    validation_tokens = PackedTokens(paths.tokens("validation"))
    for packed in (train_tokens, validation_tokens):
        packed.check_tokenizer(tokenizer)
    n_ctx = config.model.n_ctx
    train_set = PackedWindowDataset(train_tokens, window=n_ctx, stride=config.train.window_stride)
    eval_set = EvaluationWindows(validation_tokens, window=n_ctx)  # the windows the evaluate stage scores
    torch.manual_seed(config.train.seed)
    model = build_model(
        config.model.arch,
        **config.model.config_fields(tokenizer.vocab_size, tokenizer.bos_token_id, tokenizer.eos_token_id),
    )
    args = config.train.training_config(paths.checkpoints_dir, device)
    return Trainer(model, tokenizer, args, train_set, eval_set, callbacks=callbacks)


@reports_errors
def main(
    params: ParamsOption = Path("params.yaml"),
    device: DeviceOption = "auto",
    restart: Annotated[
        bool, typer.Option("--restart", help="Discard the checkpoints of an unfinished run and train from step 0.")
    ] = False,
) -> None:
    """Train the `model` params on artifacts/corpus with the `train` params; resumes an interrupted run.

    Writes artifacts/model/ (model.safetensors, config.json, tokenizer), reports/train/curves.tsv and eval.tsv (the
    DVC plots), checkpoints under outputs/checkpoints/, and an MLflow run with every param, the curves, the model and
    the runtime (threads, library versions) as `runtime.*` tags.
    Multi-GPU: `torchrun --nproc_per_node=N -m stages.train --params params.yaml`.
    """
    config = load_params(params)
    paths = PipelinePaths()
    is_main = int(os.environ.get("RANK", "0")) == 0
    with training_lock(paths.train_lock) if is_main else nullcontext():  # rank 0 writes checkpoints and MLflow
        if is_main:  # before the Trainer exists: its process-group set-up holds the other ranks until rank 0 gets there
            if restart and paths.checkpoints_dir.exists():
                shutil.rmtree(paths.checkpoints_dir)
            clear_finished_run(paths.checkpoints_dir)
            paths.checkpoints_dir.mkdir(parents=True, exist_ok=True)  # a file in its place fails now, not at a save
        callbacks = [ProgressCallback(), CsvLoggerCallback(paths.training_curves, paths.eval_curves)]
        if is_main:
            callbacks.append(MLflowCallback(log_checkpoints=config.train.log_checkpoints))
        trainer = build_trainer(config, paths, device, callbacks)
        try:
            if is_main:
                train_tracked(trainer, config, paths)
            else:
                trainer.train(resume_from_checkpoint="latest")
                trainer.save_model(paths.model_dir)
        except TrainingInterrupted as stop:
            if is_main:
                typer.secho(str(stop), fg=typer.colors.YELLOW, err=True)
            sys.exit(stop.exit_code)
        finally:
            teardown_distributed()


def train_tracked(trainer: Trainer, config: Params, paths: PipelinePaths) -> None:
    """Rank 0: train inside the MLflow run (the interrupted run's, when resuming), then save and upload the model."""
    model = trainer.model
    tags = {"device": str(trainer.device), "world_size": str(trainer.dist.world_size)}
    tags.update({f"runtime.{key}": value for key, value in runtime_info().items()})
    resume_from = trainer.checkpoint_to_resume("latest")  # refuses changed params before MLflow records anything
    run_record = paths.checkpoints_dir / "mlflow_run.json"
    run_id = recall_run(run_record) if resume_from else None
    sections = ("model", "train")
    system_metrics = config.train.log_system_metrics
    with stage_run(
        "train", config, paths.root, sections=sections, run_id=run_id, tags=tags, log_system_metrics=system_metrics
    ) as run:
        remember_run(run_record, run)
        remember_run(paths.train_run, run)
        if resume_from is not None:
            typer.echo(f"resuming from {resume_from}")
        sizes = {"model.num_parameters": model.num_parameters(), "model.vocab_size": model.config.vocab_size}
        log_params(sizes, pipeline=True)
        log_corpus(paths.corpus_dir, config)
        result = trainer.train(resume_from_checkpoint=resume_from)
        trainer.save_model(paths.model_dir)
        log_flat_metrics({"train/runtime_s": result["train_runtime_s"]})
        log_artifacts(paths.training_curves, "curves")
        log_artifacts(paths.eval_curves, "curves")
        model_id = log_trained_model(paths.model_dir, config.generate)
        remember_run(paths.train_run, run, model_id=model_id)
    typer.echo(f"trained {result['global_step']} steps in {result['train_runtime_s']:.0f}s -> {paths.model_dir}")


if __name__ == "__main__":
    typer.run(main)
