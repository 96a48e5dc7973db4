"""MLflow tracking against a real sqlite store in a temporary directory: pipeline runs with stage children, metric
sections, dataset inputs, the logged pyfunc model and its reuse."""

import json
import subprocess
import time
from pathlib import Path

import mlflow
import pytest
import torch
from mlflow.tracking import MlflowClient

from ailab.datasets import pack_documents
from ailab.models import build_model
from ailab.tokenizers import StrippedAsciiTokenizer
from ailab.trainers import TrainerState
from pipeline.corpus_dataset import dvc_dir_md5
from pipeline.lineage import adopt_reused_model, log_corpus, log_trained_model
from pipeline.mlflow_callback import MLflowCallback
from pipeline.params import Params, params_from_dict
from pipeline.paths import PipelinePaths
from pipeline.tracking import (
    PARENT_TAG,
    git_state,
    log_final_metrics,
    log_stats,
    params_hash,
    pipeline_run_name,
    recall_model,
    recall_run,
    remember_run,
    stage_run,
)


def make_repo(path: Path) -> Path:
    for args in (["init", "-q"], ["config", "user.email", "t@example.com"], ["config", "user.name", "t"]):
        subprocess.run(["git", *args], cwd=path, check=True)
    (path / "params.yaml").write_text("{}\n")
    subprocess.run(["git", "add", "params.yaml"], cwd=path, check=True)
    subprocess.run(["git", "commit", "-qm", "init"], cwd=path, check=True)
    return path


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """One git repository and one sqlite store for the module: creating an MLflow database takes seconds."""
    with pytest.MonkeyPatch.context() as env:
        for name in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME", "DVC_ROOT", "DVC_EXP_NAME"):
            env.delenv(name, raising=False)
        yield make_repo(tmp_path_factory.mktemp("tracking"))


@pytest.fixture
def exp_name(monkeypatch, request):
    """A DVC experiment name of the test's own, as `dvc exp run` sets it for the stages."""
    name = request.node.name.replace("_", "-")[:40]
    monkeypatch.setenv("DVC_EXP_NAME", name)
    return name


def client_for(root: Path) -> MlflowClient:
    return MlflowClient(tracking_uri=f"sqlite:///{root / 'mlflow.db'}")


def parent_of(client: MlflowClient, run_id: str) -> str:
    return client.get_run(run_id).data.tags[PARENT_TAG]


def test_stages_are_children_of_one_pipeline_run_named_after_the_experiment(root, exp_name):
    with stage_run("train", Params(), root, sections=("model", "train"), tags={"device": "cpu"}) as train:
        callback = MLflowCallback()
        for step in (10, 20):
            callback.on_log(
                TrainerState(global_step=step), {"step": step, "loss": 5.0 - step / 10, "learning_rate": 1e-3}
            )
        callback.on_evaluate(TrainerState(global_step=20), {"eval_loss": 3.5, "best_eval_loss": 3.5})
    with stage_run("evaluate", Params(), root, sections=("eval",)) as evaluate:
        log_final_metrics({"val_loss": 2.5, "perplexity": 12.2, "bits_per_byte": 1.1, "other": 1.0})

    client = client_for(root)
    parent_id = parent_of(client, train.info.run_id)
    assert parent_of(client, evaluate.info.run_id) == parent_id
    parent = client.get_run(parent_id)
    assert parent.info.run_name == exp_name and parent.data.tags["dvc.exp_name"] == exp_name
    assert len(parent.data.params) == len(Params().flat()) and parent.data.params["generate.top_p"] == "0.9"
    final = {"val_loss": 2.5, "perplexity": 12.2, "bits_per_byte": 1.1}
    assert {k: v for k, v in parent.data.metrics.items() if "/" not in k} == final
    assert client.get_run(evaluate.info.run_id).data.metrics == {**final, "eval/other": 1.0}
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()
    assert parent.data.tags["git.commit"] == commit == parent.data.tags["mlflow.source.git.commit"]

    child = client.get_run(train.info.run_id)
    assert child.info.run_name == f"{exp_name}/train"
    assert {k.split(".")[0] for k in child.data.params} == {"model", "train"}
    tags = child.data.tags
    assert (tags["git.dirty"], tags["dvc.stage"], tags["experiment"]) == ("false", "train", "ailab")
    assert tags["device"] == "cpu"
    assert [(m.step, m.value) for m in client.get_metric_history(train.info.run_id, "train/loss")] == [
        (10, 4.0), (20, 3.0),
    ]  # fmt: skip
    assert client.get_metric_history(train.info.run_id, "eval/loss")[0].value == 3.5
    for run_id in (train.info.run_id, parent_id):  # the curves are on the pipeline run too, for the compare view
        assert [(m.step, m.value) for m in client.get_metric_history(run_id, "eval/loss")] == [(20, 3.5)]
    assert set(child.data.metrics) == {"train/loss", "train/learning_rate", "eval/loss", "eval/best_loss"}


def test_a_stage_that_runs_again_starts_a_new_pipeline_run(root, exp_name):
    with stage_run("train", Params(), root) as first:
        pass
    with stage_run("evaluate", Params(), root) as evaluate:
        pass
    with stage_run("train", Params(), root) as second:
        pass
    client = client_for(root)
    assert parent_of(client, evaluate.info.run_id) == parent_of(client, first.info.run_id)
    assert parent_of(client, second.info.run_id) != parent_of(client, first.info.run_id)
    names = {client.get_run(parent_of(client, r.info.run_id)).info.run_name for r in (first, second)}
    assert names == {exp_name}


def test_outside_dvc_exp_the_name_is_the_model_and_a_params_hash(root, monkeypatch):
    monkeypatch.delenv("DVC_EXP_NAME", raising=False)
    params = Params()
    other = params_from_dict({"generate": {"temperature": 0.5}})
    assert pipeline_run_name(params) == f"gpt2-4x128-{params_hash(params)}"
    assert params_hash(other) != params_hash(params) and len(params_hash(params)) == 8
    with stage_run("generate", params, root) as a:
        pass
    with stage_run("generate", other, root) as b:
        pass
    client = client_for(root)
    assert client.get_run(parent_of(client, a.info.run_id)).info.run_name == pipeline_run_name(params)
    assert parent_of(client, a.info.run_id) != parent_of(client, b.info.run_id)


def test_a_resumed_training_continues_its_run_in_its_pipeline_run(root, exp_name, tmp_path):
    with stage_run("train", Params(), root) as run:
        remember_run(tmp_path / "mlflow_run.json", run)
    assert recall_run(tmp_path / "mlflow_run.json") == run.info.run_id
    with stage_run("train", Params(), root, run_id=recall_run(tmp_path / "mlflow_run.json")) as resumed:
        pass
    assert resumed.info.run_id == run.info.run_id
    assert json.loads((tmp_path / "mlflow_run.json").read_text())["pipeline_run_id"] == parent_of(
        client_for(root), run.info.run_id
    )


def test_a_forgotten_run_id_starts_a_new_run_with_only_the_stage_params(root, exp_name):
    with stage_run("generate", Params(), root, run_id="0" * 32, sections=("generate",)) as run:
        pass
    params = client_for(root).get_run(run.info.run_id).data.params
    assert params and all(key.startswith("generate.") for key in params)


def test_statistics_are_params_and_a_json_artifact_not_metrics(root, exp_name):
    stats = {"num_tokens": 1200, "document_length_tokens": {"mean": 41.5}, "top_tokens": [{"id": 3}], "kind": "bpe"}
    with stage_run("dump_corpus", Params(), root, sections=("corpus",)) as run:
        log_stats(stats, "corpus/stats.json")
    recorded = client_for(root).get_run(run.info.run_id)
    assert not recorded.data.metrics
    assert recorded.data.params["stats.num_tokens"] == "1200"
    assert recorded.data.params["stats.document_length_tokens.mean"] == "41.5"
    assert recorded.data.params["stats.kind"] == "bpe"
    logged = mlflow.artifacts.load_dict(f"{recorded.info.artifact_uri}/corpus/stats.json")
    assert logged == stats


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> PipelinePaths:
    """A pipeline workspace with a packed corpus and a tiny saved model (ASCII tokenizer), as the stages leave it."""
    paths = PipelinePaths(tmp_path_factory.mktemp("workspace"))
    tokenizer = StrippedAsciiTokenizer()
    paths.corpus_dir.mkdir(parents=True)
    for split, n in (("train", 40), ("validation", 5)):
        pack_documents([f"Once upon a time there was a cat number {i}." for i in range(n)], tokenizer,
                       paths.tokens(split), num_proc=1)  # fmt: skip
    torch.manual_seed(0)  # no EOS: every sample is max_new_tokens long
    model = build_model("gpt2", vocab_size=tokenizer.vocab_size, eos_token_id=None, bos_token_id=None,
                        n_ctx=32, n_layers=1, d_model=16, n_heads=2)  # fmt: skip
    model.save_pretrained(paths.model_dir)
    tokenizer.save(paths.model_dir)
    return paths


def test_the_corpus_is_logged_as_dataset_inputs_of_the_run_and_its_pipeline_run(root, exp_name, workspace):
    with stage_run("train", Params(), root) as run:
        log_corpus(workspace.corpus_dir, Params())
    client = client_for(root)
    for run_id in (run.info.run_id, parent_of(client, run.info.run_id)):
        inputs = client.get_run(run_id).inputs.dataset_inputs
        by_context = {i.tags[0].value: i.dataset for i in inputs}
        assert set(by_context) == {"training", "validation"}
        train = by_context["training"]
        assert train.name == "builtin-stories/train"
        assert train.digest == dvc_dir_md5(workspace.corpus_dir) and train.digest.endswith(".dir")
        sidecar = json.loads(workspace.tokens("train").with_suffix(".json").read_text())
        assert json.loads(train.profile)["num_tokens"] == sidecar["num_tokens"] > 0
        assert json.loads(train.source)["uri"].endswith("corpus/train.bin")


def test_the_model_is_an_mlflow_pyfunc_that_generates_text_and_is_reused(root, exp_name, workspace, monkeypatch):
    with stage_run("train", Params(), root) as run:
        model_id = log_trained_model(workspace.model_dir, Params().generate)
        remember_run(workspace.train_run, run, model_id=model_id)
    client = client_for(root)
    parent_id = parent_of(client, run.info.run_id)
    assert recall_model(workspace.train_run) == model_id
    assert [o.model_id for o in client.get_run(parent_id).outputs.model_outputs] == [model_id]
    assert [o.model_id for o in client.get_run(run.info.run_id).outputs.model_outputs] == [model_id]
    logged = client.get_logged_model(model_id)
    assert logged.source_run_id == parent_id and logged.name == "model"
    assert logged.params["model.d_model"] == "128"  # the pipeline run's params
    files = {Path(p).name for p in Path(logged.artifact_location.removeprefix("file://")).rglob("*")}
    assert {"MLmodel", "text_model.py", "model.safetensors", "config.json"} <= files
    assert not any(name.endswith((".pkl", ".pickle", ".cloudpickle")) for name in files)

    loaded = mlflow.pyfunc.load_model(f"runs:/{parent_id}/model")
    texts = loaded.predict(["Once upon a time", "The cat"], params={"max_new_tokens": 6, "seed": 1})
    assert len(texts) == 2 and all(isinstance(t, str) and t for t in texts)
    assert loaded.predict(["Once upon a time"], params={"max_new_tokens": 6, "seed": 1})[0] == texts[0]

    # Only `generate` reruns after a generate param change: a new pipeline run that links the reused model.
    workspace.eval_metrics.parent.mkdir(parents=True, exist_ok=True)
    workspace.eval_metrics.write_text(json.dumps({"val_loss": 3.0, "perplexity": 20.1, "bits_per_byte": 1.5}))
    monkeypatch.setenv("DVC_EXP_NAME", f"{exp_name}-cooler")
    cooler = params_from_dict({"generate": {"temperature": 0.5}})
    with stage_run("generate", cooler, root, sections=("generate",)) as generate:
        adopt_reused_model(workspace, cooler)
    reused = client.get_run(parent_of(client, generate.info.run_id))
    assert reused.info.run_name == f"{exp_name}-cooler"
    assert reused.data.metrics == {"val_loss": 3.0, "perplexity": 20.1, "bits_per_byte": 1.5}
    assert [o.model_id for o in reused.outputs.model_outputs] == [model_id]
    names = {i.dataset.name for i in reused.inputs.dataset_inputs}
    assert names == {"builtin-stories/train", "builtin-stories/validation"}


def test_system_metrics_are_sampled_only_when_asked(root, exp_name, monkeypatch):
    monkeypatch.setenv("MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL", "0.5")
    with stage_run("train", Params(), root, log_system_metrics=True) as sampled:
        time.sleep(1.5)
    with stage_run("evaluate", Params(), root) as plain:
        pass
    client = client_for(root)
    assert "system/cpu_utilization_percentage" in client.get_run(sampled.info.run_id).data.metrics
    assert "system/system_memory_usage_megabytes" in client.get_run(sampled.info.run_id).data.metrics
    assert not client.get_run(plain.info.run_id).data.metrics


def test_git_state_outside_a_repository(tmp_path):
    assert git_state(tmp_path / "nowhere") == ("unknown", None)


def test_dirty_tree_is_flagged(tmp_path):
    repo = make_repo(tmp_path)
    assert git_state(repo)[1] is False
    (repo / "params.yaml").write_text("train: {}\n")
    assert git_state(repo)[1] is True


def test_periodic_checkpoints_are_uploaded_only_when_asked(root, exp_name, tmp_path):
    for step in (3, 5):
        (tmp_path / f"checkpoint-{step}").mkdir()
        (tmp_path / f"checkpoint-{step}" / "model.safetensors").write_bytes(b"weights")
    with stage_run("train", Params(), root) as run:
        MLflowCallback(log_checkpoints=False).on_save(TrainerState(global_step=3), tmp_path / "checkpoint-3")
        MLflowCallback(log_checkpoints=True).on_save(TrainerState(global_step=5), tmp_path / "checkpoint-5")
    client = client_for(root)
    assert [a.path for a in client.list_artifacts(run.info.run_id, "checkpoints")] == ["checkpoints/checkpoint-5"]
    assert [a.path for a in client.list_artifacts(run.info.run_id, "checkpoints/checkpoint-5")] == [
        "checkpoints/checkpoint-5/model.safetensors"
    ]
