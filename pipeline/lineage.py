"""What a pipeline run trained on and what it produced, as MLflow entities: the packed corpus as dataset inputs and
the trained model as a logged pyfunc model (text in, text out) that loads ailab's safetensors directory.

Used by `train`, and by `evaluate`/`generate` when they run without `train` and adopt the reused model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.params import GenerateParams, Params
from pipeline.tracking import (
    FINAL_METRICS,
    MODEL_NAME,
    MODEL_TAG,
    STAGE_TAG,
    metric_point,
    pipeline_run_id,
    recall_model,
)

if TYPE_CHECKING:
    from pipeline.paths import PipelinePaths


def log_corpus(corpus_dir: Path, params: Params) -> None:
    """The packed train and validation splits as dataset inputs of the stage's run and of its pipeline run."""
    import mlflow
    from mlflow.entities import DatasetInput, InputTag

    from pipeline.corpus_dataset import corpus_splits
    from pipeline.paths import SPLITS

    contexts = {"train": "training", "validation": "validation"}
    datasets = corpus_splits(corpus_dir, params.data, SPLITS)
    inputs = [
        DatasetInput(dataset._to_mlflow_entity(), [InputTag("mlflow.data.context", contexts[split])])
        for dataset, split in zip(datasets, SPLITS)
    ]
    for run_id in (mlflow.active_run().info.run_id, pipeline_run_id()):
        mlflow.MlflowClient().log_inputs(run_id, datasets=inputs)


def log_trained_model(model_dir: Path, generate: GenerateParams) -> str:
    """Log `model_dir` as the pipeline run's MLflow model `model` (pyfunc: text in, text out); return its model id.

    `mlflow.pyfunc.load_model("runs:/<pipeline run id>/model")` loads it; the stage's run lists it as an output too.
    The `generate` params are the defaults of its predict params.
    """
    import mlflow
    from mlflow.entities import LoggedModelOutput
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

    import ailab
    from pipeline import text_model

    settings = ParamSchema(
        [
            ParamSpec("max_new_tokens", "long", generate.max_new_tokens),
            ParamSpec("temperature", "double", generate.temperature),
            ParamSpec("top_k", "long", generate.top_k or 0),
            ParamSpec("top_p", "double", generate.top_p if generate.top_p is not None else 1.0),
            ParamSpec("seed", "long", generate.seed),
        ]
    )
    signature = ModelSignature(inputs=Schema([ColSpec("string")]), outputs=Schema([ColSpec("string")]), params=settings)
    info = mlflow.models.Model.log(
        artifact_path=None,
        name=MODEL_NAME,
        flavor=mlflow.pyfunc,
        run_id=pipeline_run_id(),
        python_model=text_model.__file__,  # logged as code: the model file is its source, nothing pickled
        artifacts={"model_dir": str(model_dir)},
        code_paths=[str(Path(ailab.__file__).parent)],
        signature=signature,
        pip_requirements=_requirements(),
    )
    mlflow.MlflowClient().log_outputs(mlflow.active_run().info.run_id, [LoggedModelOutput(info.model_id, 0)])
    mlflow.MlflowClient().set_tag(pipeline_run_id(), MODEL_TAG, info.model_id)
    return info.model_id


def _requirements() -> list[str]:
    """The packages the model needs where it loads, pinned to this environment (no slow inference by MLflow)."""
    from importlib.metadata import PackageNotFoundError, version

    pinned = []
    for package in ("mlflow", "torch", "numpy", "safetensors", "tokenizers", "sentencepiece", "protobuf"):
        try:
            pinned.append(f"{package}=={version(package)}")
        except PackageNotFoundError:
            continue
    return pinned


def adopt_reused_model(paths: PipelinePaths, params: Params) -> None:
    """In a pipeline run where `train` did not run, link what the reused model brings (see the module docstring).

    Links the logged model recorded in `reports/train/mlflow_run.json`, logs the corpus as dataset inputs and the
    final metrics of `reports/eval/metrics.json`. Nothing to do when `train` ran in this pipeline run.
    """
    import mlflow
    from mlflow.entities import LoggedModelOutput

    parent_id = pipeline_run_id()
    client = mlflow.MlflowClient()
    if f"{STAGE_TAG}train" in client.get_run(parent_id).data.tags:
        return
    model_id = recall_model(paths.train_run)
    if model_id is not None:
        client.log_outputs(parent_id, [LoggedModelOutput(model_id, 0)])
        client.set_tag(parent_id, MODEL_TAG, model_id)
    if paths.tokens("train").is_file():
        log_corpus(paths.corpus_dir, params)
    if paths.eval_metrics.is_file():
        final = json.loads(paths.eval_metrics.read_text(encoding="utf-8"))
        client.log_batch(parent_id, metrics=[metric_point(k, float(final[k])) for k in FINAL_METRICS if k in final])
