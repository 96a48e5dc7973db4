"""MLflow tracking for the stages: one store (`mlflow.db` at the pipeline root), runs tagged with their provenance.

The training run is the one users compare in `mlflow ui`: `train` creates it with every pipeline param,
`evaluate` and `generate` log their metrics and samples into it (its id is kept in `reports/train/mlflow_run.json`).
The tokenizer and data stages log runs of their own. mlflow is imported when a run starts, not with this module, so
the commands that never track (`ailab --help`, `ailab sample`) start seconds sooner.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ailab.io import atomic_write_json
from ailab.trainers import TrainerCallback
from pipeline.params import Params

if TYPE_CHECKING:
    import mlflow

DEFAULT_EXPERIMENT = "ailab"


def tracking_uri(root: Path) -> str:
    """`MLFLOW_TRACKING_URI` if set, else the sqlite store `mlflow.db` at the pipeline root (`mlflow ui` reads it)."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{(root / 'mlflow.db').resolve()}"


def experiment_name() -> str:
    """`MLFLOW_EXPERIMENT_NAME` if set, else `ailab`."""
    return os.environ.get("MLFLOW_EXPERIMENT_NAME") or DEFAULT_EXPERIMENT


def git_state(root: Path) -> tuple[str, bool | None]:
    """(commit, dirty) of the repository holding `root`; ("unknown", None) outside git."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown", None
    return commit, bool(status.strip())


def _use_store(root: Path) -> str:
    import mlflow

    mlflow.set_tracking_uri(tracking_uri(root))
    name = experiment_name()
    experiment = mlflow.get_experiment_by_name(name)
    if experiment is None:
        artifacts = (root / "mlartifacts").resolve().as_uri()
        return mlflow.create_experiment(name, artifact_location=artifacts)
    return experiment.experiment_id


@contextmanager
def stage_run(
    stage: str,
    params: Params,
    root: Path,
    *,
    sections: tuple[str, ...] | None = None,
    run_id: str | None = None,
    tags: dict[str, str] | None = None,
) -> Iterator[mlflow.ActiveRun]:
    """Start (with `run_id`: continue) the MLflow run of `stage`, tagged with git commit, dirty flag, stage, experiment.

    A new run records the params of `sections` (all sections when None), flattened as `section.key`.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    experiment_id = _use_store(root)
    commit, dirty = git_state(root)
    if run_id is not None:
        try:
            mlflow.get_run(run_id)
        except MlflowException:
            run_id = None  # the store was reset since training: start a fresh run instead
    with mlflow.start_run(run_id=run_id, experiment_id=experiment_id, run_name=None if run_id else stage) as run:
        all_tags = {
            "mlflow.source.git.commit": commit,
            "git.commit": commit,
            "git.dirty": str(dirty).lower() if dirty is not None else "unknown",
            "experiment": experiment_name(),
            f"dvc.stage.{stage}": "ran",
        }
        if run_id is None:
            all_tags["dvc.stage"] = stage
            all_tags["mlflow.source.name"] = f"ailab {stage.replace('_', '-')}"
        if os.environ.get("DVC_EXP_NAME"):
            all_tags["dvc.exp_name"] = os.environ["DVC_EXP_NAME"]
        all_tags.update(tags or {})
        mlflow.set_tags(all_tags)
        if run_id is None:
            flat = params.flat()
            if sections is not None:
                flat = {k: v for k, v in flat.items() if k.split(".", 1)[0] in sections}
            log_params(flat)
        yield run


def _param_value(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
    return text[:6000]


def log_flat_metrics(metrics: dict[str, Any], prefix: str = "", step: int | None = None) -> None:
    """Log every numeric leaf of a (nested) dict as an MLflow metric named `prefix + dotted.key`."""
    import mlflow

    flat: dict[str, float] = {}
    stack: list[tuple[str, Any]] = list(metrics.items())
    while stack:
        key, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((f"{key}.{k}", v) for k, v in value.items())
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            flat[f"{prefix}{key}"] = float(value)
    if flat:
        mlflow.log_metrics(flat, step=step)


def log_params(params: dict[str, Any]) -> None:
    """Record extra params (e.g. counts only known once the model exists) in the active run."""
    import mlflow

    mlflow.log_params({k: _param_value(v) for k, v in params.items()})


def log_artifacts(path: Path, artifact_path: str) -> None:
    """Upload a file or a whole directory into the active run under `artifact_path`."""
    import mlflow

    if Path(path).is_dir():
        mlflow.log_artifacts(str(path), artifact_path=artifact_path)
    else:
        mlflow.log_artifact(str(path), artifact_path=artifact_path)


def remember_run(path: Path, run: mlflow.ActiveRun) -> None:
    """Write the run id for the stages that log into the same run later."""
    atomic_write_json(path, {"run_id": run.info.run_id, "experiment_id": run.info.experiment_id})


def recall_run(path: Path) -> str | None:
    """The run id written by `remember_run`, or None when training ran without it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))["run_id"]
    except (OSError, ValueError, KeyError):
        return None


class MLflowCallback(TrainerCallback):
    """Streams the trainer's logs and evaluations into the active MLflow run (the trainer calls it on rank 0 only)."""

    def __init__(self, log_checkpoints: bool = False) -> None:
        self.log_checkpoints = log_checkpoints

    def on_log(self, state: Any, logs: dict[str, Any]) -> None:
        step = int(logs.get("step", getattr(state, "global_step", 0)))
        log_flat_metrics({k: v for k, v in logs.items() if k != "step"}, step=step)

    def on_evaluate(self, state: Any, metrics: dict[str, Any]) -> None:
        step = int(getattr(state, "global_step", 0))
        log_flat_metrics(metrics, step=step)

    def on_save(self, state: Any, checkpoint_dir: Path) -> None:
        if self.log_checkpoints:
            log_artifacts(checkpoint_dir, f"checkpoints/{Path(checkpoint_dir).name}")
