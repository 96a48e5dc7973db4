"""MLflow tracking against a real sqlite store in a temporary directory."""

import subprocess
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from ailab.trainers import TrainerState
from pipeline.params import Params
from pipeline.tracking import MLflowCallback, git_state, recall_run, remember_run, stage_run


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
        env.delenv("MLFLOW_TRACKING_URI", raising=False)
        env.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
        env.setenv("DVC_EXP_NAME", "exp-test")
        yield make_repo(tmp_path_factory.mktemp("tracking"))


def client_for(root: Path) -> MlflowClient:
    return MlflowClient(tracking_uri=f"sqlite:///{root / 'mlflow.db'}")


def test_a_training_run_records_params_tags_and_curves(root):
    with stage_run("train", Params(), root, tags={"device": "cpu"}) as run:
        callback = MLflowCallback()
        for step in (10, 20):
            callback.on_log(
                TrainerState(global_step=step), {"step": step, "loss": 5.0 - step / 10, "learning_rate": 1e-3}
            )
        callback.on_evaluate(TrainerState(global_step=20), {"eval_loss": 3.5})
        remember_run(root / "reports/train/mlflow_run.json", run)

    client = client_for(root)
    recorded = client.get_run(run.info.run_id)
    assert recorded.data.params["model.d_model"] == "128"
    assert recorded.data.params["generate.prompts"].startswith('["Once upon a time"')
    assert len(recorded.data.params) == len(Params().flat())
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()
    tags = recorded.data.tags
    assert tags["git.commit"] == commit == tags["mlflow.source.git.commit"]
    assert (tags["git.dirty"], tags["dvc.stage"], tags["experiment"], tags["dvc.exp_name"], tags["device"]) == (
        "false", "train", "ailab", "exp-test", "cpu",
    )  # fmt: skip
    assert [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, "loss")] == [(10, 4.0), (20, 3.0)]
    assert client.get_metric_history(run.info.run_id, "eval_loss")[0].value == 3.5
    assert recall_run(root / "reports/train/mlflow_run.json") == run.info.run_id


def test_later_stages_log_into_the_training_run(root):
    with stage_run("train", Params(), root) as train_run:
        pass
    with stage_run("evaluate", Params(), root, run_id=train_run.info.run_id, sections=("eval",)) as eval_run:
        from pipeline.tracking import log_flat_metrics

        log_flat_metrics({"val_loss": 2.5, "nested": {"x": 1}, "label": "ignored"})
    assert eval_run.info.run_id == train_run.info.run_id
    recorded = client_for(root).get_run(train_run.info.run_id)
    assert recorded.data.metrics == {"val_loss": 2.5, "nested.x": 1.0}
    assert recorded.data.tags["dvc.stage"] == "train" and recorded.data.tags["dvc.stage.evaluate"] == "ran"


def test_a_forgotten_run_id_starts_a_new_run_with_only_the_stage_params(root):
    with stage_run("generate", Params(), root, run_id="0" * 32, sections=("generate",)) as run:
        pass
    params = client_for(root).get_run(run.info.run_id).data.params
    assert params and all(key.startswith("generate.") for key in params)


def test_git_state_outside_a_repository(tmp_path):
    assert git_state(tmp_path / "nowhere") == ("unknown", None)


def test_dirty_tree_is_flagged(tmp_path):
    repo = make_repo(tmp_path)
    assert git_state(repo)[1] is False
    (repo / "params.yaml").write_text("train: {}\n")
    assert git_state(repo)[1] is True


def test_periodic_checkpoints_are_uploaded_only_when_asked(root, tmp_path):
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
