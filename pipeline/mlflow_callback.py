"""`MLflowCallback`: the trainer's curves, by step, into the `train` stage's MLflow run and its pipeline run.

Kept apart from `pipeline.tracking` so that only the `train` stage loads the trainer's callback API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ailab.trainers import TrainerCallback
from pipeline.tracking import flat_metrics, log_artifacts, metric_point, pipeline_run_id


def metric_name(key: str) -> str:
    """The MLflow name of a trainer metric, grouped by prefix: `eval_loss` is `eval/loss`, `best_eval_loss`
    `eval/best_loss`, `loss` `train/loss`."""
    if "eval_" in key:
        return f"eval/{key.replace('eval_', '', 1)}"
    return f"train/{key}"


class MLflowCallback(TrainerCallback):
    """Streams the trainer's logs (`train/...`) and evaluations (`eval/...`) by step into the active MLflow run and
    its pipeline run, so the curves of two experiments overlay in the compare view, each named after its run.

    The trainer calls it on rank 0 only.
    """

    def __init__(self, log_checkpoints: bool = False) -> None:
        self.log_checkpoints = log_checkpoints
        self._pipeline_run: str | None = None

    def _log(self, metrics: dict[str, Any], step: int) -> None:
        import mlflow

        flat = flat_metrics({metric_name(k): v for k, v in metrics.items() if k != "step"})
        if not flat:
            return
        mlflow.log_metrics(flat, step=step)
        self._pipeline_run = self._pipeline_run or pipeline_run_id()
        mlflow.MlflowClient().log_batch(self._pipeline_run, metrics=[metric_point(k, v, step) for k, v in flat.items()])

    def on_log(self, state: Any, logs: dict[str, Any]) -> None:
        self._log(logs, int(logs.get("step", getattr(state, "global_step", 0))))

    def on_evaluate(self, state: Any, metrics: dict[str, Any]) -> None:
        self._log(metrics, int(getattr(state, "global_step", 0)))

    def on_save(self, state: Any, checkpoint_dir: Path) -> None:
        if self.log_checkpoints:
            log_artifacts(checkpoint_dir, f"checkpoints/{Path(checkpoint_dir).name}")
