"""Exact resume on CPU: N steps + resume to 2N == 2N steps straight (every loss, final weights bit for bit)."""

import json
import signal

import torch

from ailab.trainers import Trainer
from tests.trainers.subprocess_env import run_tiny_training
from tests.trainers.tiny_training import RecordLosses, TokenWindows, tiny_config, tiny_model


def straight_run(output_dir, **overrides):
    recorder = RecordLosses()
    trainer = Trainer(
        tiny_model(dropout=0.1), None, tiny_config(output_dir, **overrides), TokenWindows(64), callbacks=[recorder]
    )
    trainer.train()
    return trainer, recorder.losses


def assert_bitwise_equal(a: torch.nn.Module, b: torch.nn.Module) -> None:
    for name, p in a.state_dict().items():
        assert torch.equal(p, b.state_dict()[name]), name


def test_resume_mid_epoch_with_accumulation_and_dropout_is_exact(tmp_path):
    # 64 windows / (batch 4 × accum 2) = 8 steps per epoch: step 6 is mid-epoch, step 12 is in the next one
    settings = dict(max_steps=12, save_steps=6, gradient_accumulation_steps=2)
    straight, straight_losses = straight_run(tmp_path / "straight", **settings)

    recorder = RecordLosses()
    resumed = Trainer(
        tiny_model(dropout=0.1, seed=123),
        None,
        tiny_config(tmp_path / "resumed", **settings),
        TokenWindows(64),
        callbacks=[recorder],
    )
    resumed.train(resume_from_checkpoint=tmp_path / "straight" / "checkpoint-6")
    assert sorted(recorder.losses) == list(range(7, 13))
    assert recorder.losses == {step: straight_losses[step] for step in range(7, 13)}
    assert_bitwise_equal(straight.model, resumed.model)
    assert resumed.optimizer.state_dict()["state"][0]["exp_avg"].equal(
        straight.optimizer.state_dict()["state"][0]["exp_avg"]
    )


def test_sigkill_between_checkpoints_then_resume_latest_is_exact(tmp_path):
    straight, straight_losses = straight_run(tmp_path / "straight", max_steps=8, save_steps=3)

    out = tmp_path / "killed"
    killed = run_tiny_training(
        "--output-dir", out, "--max-steps", 8, "--save-steps", 3, "--dropout", 0.1, "--kill-at-step", 5
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint-3"]  # steps 4-5 were lost with the process

    recorder = RecordLosses()
    resumed = Trainer(
        tiny_model(dropout=0.1, seed=7),
        None,
        tiny_config(out, max_steps=8, save_steps=3),
        TokenWindows(64),
        callbacks=[recorder],
    )
    resumed.train(resume_from_checkpoint="latest")
    assert recorder.losses == {step: straight_losses[step] for step in range(4, 9)}
    assert_bitwise_equal(straight.model, resumed.model)
    assert json.loads((out / "checkpoint-8" / "trainer_state.json").read_text())["loss"] == straight_losses[8]
