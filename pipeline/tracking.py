"""MLflow tracking for the stages: one run per pipeline execution of an experiment, each stage a child run in it.

The pipeline run is what users compare in `mlflow ui`: it is named after the DVC experiment (`DVC_EXP_NAME`, which
`dvc exp run` sets for the stages) or, outside `dvc exp run`, after the model and a short hash of all params
(`gpt2-4x128-1a2b3c4d`); it holds every param, the final `val_loss`, `perplexity` and `bits_per_byte`, the corpus
as dataset inputs and the trained model. Each stage is its own process, so a stage finds its pipeline run in the
store: the newest run tagged with the same name and params hash that has no child for this stage yet; otherwise it
starts a new one. A stage that DVC skips never starts, so it creates no run; a stage that runs again (after a code
change, or a second `dvc exp run -f` of the same name) starts a new pipeline run, and the stages after it join that.

When the model is reused (only `evaluate` or `generate` reran, e.g. after a `generate` param change), the new
pipeline run links the logged model it reuses, its dataset inputs and the final metrics of `reports/eval/metrics.json`
(which are the reused model's: DVC skipped `evaluate` or reruns it, which logs its own), so it compares like the rest.

The store is `mlflow.db` at the DVC repository root (`DVC_ROOT`, which DVC sets for every stage, also for queued
experiments that run in a temporary copy), else at the pipeline root; `MLFLOW_TRACKING_URI` overrides it. mlflow is
imported when a run starts, not with this module, so commands that never track start sooner.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ailab.io import atomic_write_json
from pipeline.params import Params, flatten

if TYPE_CHECKING:
    import mlflow


DEFAULT_EXPERIMENT = "ailab"
PIPELINE_TAG = "ailab.pipeline"
PARAMS_HASH_TAG = "ailab.params_hash"
STAGE_TAG = "ailab.stage."
MODEL_TAG = "ailab.model_id"
PARENT_TAG = "mlflow.parentRunId"
FINAL_METRICS = ("val_loss", "perplexity", "bits_per_byte")
MODEL_NAME = "model"


def store_root(root: Path) -> Path:
    """Where the store lives: the DVC repository root when DVC runs the stage (`DVC_ROOT`), else `root`."""
    return Path(os.environ.get("DVC_ROOT") or root)


def tracking_uri(root: Path) -> str:
    """`MLFLOW_TRACKING_URI` if set, else the sqlite store `mlflow.db` at the store root (`mlflow ui` reads it)."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{(store_root(root) / 'mlflow.db').resolve()}"


def experiment_name() -> str:
    """`MLFLOW_EXPERIMENT_NAME` if set, else `ailab`."""
    return os.environ.get("MLFLOW_EXPERIMENT_NAME") or DEFAULT_EXPERIMENT


def params_hash(params: Params) -> str:
    """8 hex digits that change with any param: pipeline runs with the same params share it."""
    canonical = json.dumps(params.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:8]


def pipeline_run_name(params: Params) -> str:
    """The DVC experiment name under `dvc exp run`, else `<arch>-<layers>x<d_model>-<params hash>`."""
    if os.environ.get("DVC_EXP_NAME"):
        return os.environ["DVC_EXP_NAME"]
    model = params.model
    return f"{model.arch}-{model.n_layers}x{model.d_model}-{params_hash(params)}"


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
        artifacts = (store_root(root) / "mlartifacts").resolve().as_uri()
        return mlflow.create_experiment(name, artifact_location=artifacts)
    return experiment.experiment_id


def _provenance_tags(root: Path) -> dict[str, str]:
    commit, dirty = git_state(root)
    tags = {
        "mlflow.source.git.commit": commit,
        "git.commit": commit,
        "git.dirty": str(dirty).lower() if dirty is not None else "unknown",
        "experiment": experiment_name(),
    }
    if os.environ.get("DVC_EXP_NAME"):
        tags["dvc.exp_name"] = os.environ["DVC_EXP_NAME"]
    return tags


def find_pipeline_run(experiment_id: str, stage: str, params: Params) -> str | None:
    """The newest pipeline run with these params' name and hash that `stage` has not run in yet, or None."""
    import mlflow

    name, digest = pipeline_run_name(params), params_hash(params)
    quoted = name.replace("'", "\\'")
    newest = mlflow.search_runs(
        [experiment_id],
        filter_string=f"tags.`{PIPELINE_TAG}` = '{quoted}' and tags.`{PARAMS_HASH_TAG}` = '{digest}'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
        output_format="list",
    )
    if not newest or f"{STAGE_TAG}{stage}" in newest[0].data.tags:
        return None
    return newest[0].info.run_id


def _existing_run(run_id: str | None) -> str | None:
    import mlflow
    from mlflow.exceptions import MlflowException

    if run_id is None:
        return None
    try:
        mlflow.get_run(run_id)
    except MlflowException:
        return None  # the store was reset since: start a fresh run instead
    return run_id


@contextmanager
def stage_run(
    stage: str,
    params: Params,
    root: Path,
    *,
    sections: tuple[str, ...] | None = None,
    run_id: str | None = None,
    tags: dict[str, str] | None = None,
    log_system_metrics: bool = False,
) -> Iterator[mlflow.ActiveRun]:
    """Run `stage` as a child of its pipeline run (found or started, see the module docstring); yield the child.

    The child is named `<pipeline run name>/<stage>`, so a chart legend tells two experiments' stages apart.

    With `run_id` (an interrupted training resuming) that child is continued in its own pipeline run. A new child
    records the params of `sections` (all sections when None), flattened as `section.key`, and `tags`; a new
    pipeline run records every param. `log_system_metrics` samples CPU, memory (and GPU) use into the child.
    """
    import mlflow

    experiment_id = _use_store(root)
    provenance = _provenance_tags(root)
    child_id = _existing_run(run_id)
    parent_id = mlflow.get_run(child_id).data.tags.get(PARENT_TAG) if child_id else None
    parent_id = parent_id or find_pipeline_run(experiment_id, stage, params)
    name = pipeline_run_name(params)
    parent_tags = {**provenance, PIPELINE_TAG: name, PARAMS_HASH_TAG: params_hash(params)}
    with mlflow.start_run(
        run_id=parent_id, experiment_id=experiment_id, run_name=None if parent_id else name, tags=parent_tags
    ) as parent:
        if parent_id is None:
            log_params(params.flat())
        with mlflow.start_run(
            run_id=child_id,
            experiment_id=experiment_id,
            run_name=None if child_id else f"{name}/{stage}",
            nested=True,
            log_system_metrics=log_system_metrics or None,
        ) as run:
            mlflow.MlflowClient().set_tag(parent.info.run_id, f"{STAGE_TAG}{stage}", run.info.run_id)
            child_tags = {**provenance, "dvc.stage": stage, "mlflow.source.name": f"ailab {stage.replace('_', '-')}"}
            mlflow.set_tags({**child_tags, **(tags or {})})
            if child_id is None:
                flat = params.flat()
                if sections is not None:
                    flat = {k: v for k, v in flat.items() if k.split(".", 1)[0] in sections}
                log_params(flat)
            yield run


def pipeline_run_id() -> str:
    """The id of the active stage's pipeline run (its parent)."""
    import mlflow

    run = mlflow.active_run()
    if run is None:
        raise RuntimeError("no active stage run: call this inside stage_run")
    return mlflow.get_run(run.info.run_id).data.tags[PARENT_TAG]


def _param_value(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
    return text[:6000]


def flat_metrics(metrics: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Every numeric leaf of a (nested) dict as `prefix + dotted.key: float`."""
    flat: dict[str, float] = {}
    stack: list[tuple[str, Any]] = list(metrics.items())
    while stack:
        key, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((f"{key}.{k}", v) for k, v in value.items())
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            flat[f"{prefix}{key}"] = float(value)
    return flat


def log_flat_metrics(metrics: dict[str, Any], prefix: str = "", step: int | None = None) -> None:
    """Log every numeric leaf of a (nested) dict as an MLflow metric named `prefix + dotted.key`."""
    import mlflow

    flat = flat_metrics(metrics, prefix)
    if flat:
        mlflow.log_metrics(flat, step=step)


def log_final_metrics(metrics: dict[str, Any]) -> None:
    """Log `val_loss`, `perplexity` and `bits_per_byte` into the stage's run and its pipeline run (compare view).

    Any other number in `metrics` goes into the stage's run only, as `eval/<key>`.
    """
    import mlflow

    final = {k: float(metrics[k]) for k in FINAL_METRICS if k in metrics}
    others = {f"eval/{k}": v for k, v in flat_metrics(metrics).items() if k not in FINAL_METRICS}
    mlflow.log_metrics({**final, **others})
    mlflow.MlflowClient().log_batch(
        pipeline_run_id(), metrics=[metric_point(k, v) for k, v in final.items()], synchronous=True
    )


def metric_point(key: str, value: float, step: int = 0) -> Any:
    """One MLflow metric value, for logging into a run other than the active one."""
    from mlflow.entities import Metric

    return Metric(key, value, int(time.time() * 1000), step)


def log_params(params: dict[str, Any], pipeline: bool = False) -> None:
    """Record params in the active run (with `pipeline`, in its pipeline run too: facts of the whole experiment)."""
    import mlflow

    values = {k: _param_value(v) for k, v in params.items()}
    mlflow.log_params(values)
    if pipeline:
        from mlflow.entities import Param

        mlflow.MlflowClient().log_batch(pipeline_run_id(), params=[Param(k, v) for k, v in values.items()])


def log_stats(stats: dict[str, Any], artifact_file: str) -> None:
    """Statistics of a stage: the whole dict as a JSON artifact, its scalar leaves as `stats.<dotted.key>` params.

    Params, not metrics: they are facts of the run's inputs, not curves to draw.
    """
    import mlflow

    mlflow.log_dict(stats, artifact_file)
    scalars = {f"stats.{k}": v for k, v in flatten(stats).items() if isinstance(v, (str, int, float, bool))}
    log_params(scalars)


def log_artifacts(path: Path, artifact_path: str) -> None:
    """Upload a file or a whole directory into the active run under `artifact_path`."""
    import mlflow

    if Path(path).is_dir():
        mlflow.log_artifacts(str(path), artifact_path=artifact_path)
    else:
        mlflow.log_artifact(str(path), artifact_path=artifact_path)


def remember_run(path: Path, run: mlflow.ActiveRun, model_id: str | None = None) -> None:
    """Write the run id (and its pipeline run's, and the logged model's) for the stages that come later."""
    import mlflow

    record = {"run_id": run.info.run_id, "experiment_id": run.info.experiment_id}
    record["pipeline_run_id"] = mlflow.get_run(run.info.run_id).data.tags.get(PARENT_TAG)
    if model_id is not None:
        record["model_id"] = model_id
    atomic_write_json(path, record)


def _recall(path: Path, key: str) -> str | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))[key]
    except (OSError, ValueError, KeyError):
        return None


def recall_run(path: Path) -> str | None:
    """The run id written by `remember_run`, or None when training ran without it."""
    return _recall(path, "run_id")


def recall_model(path: Path) -> str | None:
    """The logged model id written by `remember_run`, or None."""
    return _recall(path, "model_id")
