"""`ailab train`: an interrupted run resumes where it stopped, in the same MLflow run; changed params are refused."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file
from typer.testing import CliRunner

import stages.train
from ailab.datasets import generate_builtin_corpus, pack_documents
from ailab.tokenizers import StrippedAsciiTokenizer
from stages.cli import app

runner = CliRunner()

PARAMS = {
    "model": {"n_ctx": 32, "n_layers": 1, "d_model": 16, "n_heads": 2},
    "train": {
        "max_steps": 12, "batch_size": 4, "warmup_steps": 2, "eval_steps": None, "save_steps": 3,
        "save_total_limit": None, "logging_steps": 3, "learning_rate": 0.01, "min_learning_rate": 0.001,
    },
}  # fmt: skip


def make_pipeline(root: Path) -> None:
    """Tokenizer and packed corpus as the earlier stages leave them, and tiny params."""
    tokenizer = StrippedAsciiTokenizer()
    tokenizer.save(root / "artifacts/tokenizer")
    stories = generate_builtin_corpus(num_stories=40, seed=1)
    pack_documents(stories[:36], tokenizer, root / "artifacts/corpus/train.bin", num_proc=1)
    pack_documents(stories[36:], tokenizer, root / "artifacts/corpus/validation.bin", num_proc=1)
    (root / "params.yaml").write_text(yaml.safe_dump(PARAMS))


@pytest.fixture
def pipeline(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    make_pipeline(tmp_path)
    return tmp_path


class SigtermAt(stages.train.ProgressCallback):
    """Progress display that also sends the process SIGTERM after a given step, like a scheduler would."""

    step = 5

    def on_step_end(self, state):
        super().on_step_end(state)
        if state.global_step == self.step:
            os.kill(os.getpid(), signal.SIGTERM)


def train(*extra: str):
    return runner.invoke(app, ["train", "--params", "params.yaml", "--device", "cpu", *extra])


def test_sigterm_saves_then_the_same_command_resumes_bit_for_bit(pipeline, tmp_path_factory, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(stages.train, "ProgressCallback", SigtermAt)
        stopped = train()
    assert stopped.exit_code == 128 + signal.SIGTERM, stopped.output
    assert "checkpoint saved to" in stopped.output and "resumes from the newest checkpoint" in stopped.output
    assert (pipeline / "outputs/checkpoints/checkpoint-5").is_dir() and not (pipeline / "artifacts/model").exists()
    first_run = json.loads((pipeline / "reports/train/mlflow_run.json").read_text())["run_id"]

    resumed = train()
    assert resumed.exit_code == 0, resumed.output
    assert "resuming from" in resumed.output and "checkpoint-5" in resumed.output
    assert json.loads((pipeline / "reports/train/mlflow_run.json").read_text())["run_id"] == first_run
    steps = [int(line.split("\t")[0]) for line in (pipeline / "reports/train/curves.tsv").read_text().splitlines()[1:]]
    assert steps == [3, 6, 9, 12]

    straight_root = tmp_path_factory.mktemp("straight")
    monkeypatch.chdir(straight_root)
    make_pipeline(straight_root)
    assert train().exit_code == 0
    resumed_weights = load_file(pipeline / "artifacts/model/model.safetensors")
    straight_weights = load_file(straight_root / "artifacts/model/model.safetensors")
    assert resumed_weights.keys() == straight_weights.keys()
    assert all(torch.equal(resumed_weights[k], straight_weights[k]) for k in resumed_weights)


def test_changed_params_refuse_to_resume_and_restart_starts_over(pipeline, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(stages.train, "ProgressCallback", SigtermAt)
        assert train().exit_code == 128 + signal.SIGTERM

    params = yaml.safe_load((pipeline / "params.yaml").read_text())
    params["train"]["learning_rate"] = 0.02
    (pipeline / "params.yaml").write_text(yaml.safe_dump(params))
    refused = train()
    assert refused.exit_code == 2
    assert "cannot resume" in refused.output and "learning_rate: checkpoint 0.01, now 0.02" in refused.output

    restarted = train("--restart")
    assert restarted.exit_code == 0, restarted.output
    assert "resuming from" not in restarted.output
    assert (pipeline / "artifacts/model/model.safetensors").is_file()


def test_a_finished_run_is_not_resumed_by_the_next_training(pipeline):
    assert train().exit_code == 0
    params = yaml.safe_load((pipeline / "params.yaml").read_text())
    params["train"]["max_steps"] = 15
    (pipeline / "params.yaml").write_text(yaml.safe_dump(params))
    again = train()
    assert again.exit_code == 0, again.output
    assert "resuming from" not in again.output


def test_the_run_records_the_runtime_that_decides_its_bits(pipeline):
    from mlflow.tracking import MlflowClient

    assert train().exit_code == 0
    run_id = json.loads((pipeline / "reports/train/mlflow_run.json").read_text())["run_id"]
    tags = MlflowClient(tracking_uri=f"sqlite:///{pipeline / 'mlflow.db'}").get_run(run_id).data.tags
    assert tags["runtime.torch"] == torch.__version__
    assert tags["runtime.intra_op_threads"] == str(torch.get_num_threads())
    assert tags["runtime.openmp_dynamic"] in ("false", "unknown") and tags["runtime.env.OMP_DYNAMIC"] == "FALSE"
    assert {"runtime.python", "runtime.numpy", "runtime.cpu_capability", "runtime.env.MKL_DYNAMIC"} <= set(tags)
