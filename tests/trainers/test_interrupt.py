"""SIGTERM (and Ctrl-C, the same path): finish the step, save a checkpoint, exit 128+signal with how to resume."""

import signal

import torch

from ailab.models.gpt2 import GPT2Model
from ailab.trainers import Trainer
from tests.trainers.subprocess_env import run_tiny_training
from tests.trainers.tiny_training import RecordLosses, TokenWindows, tiny_config, tiny_model


def test_sigterm_saves_a_checkpoint_and_says_how_to_resume(tmp_path):
    out = tmp_path / "run"
    result = run_tiny_training("--output-dir", out, "--max-steps", 8, "--dropout", 0.1, "--term-at-step", 3,
                               "--losses-file", tmp_path / "losses.json")
    assert result.returncode == 128 + signal.SIGTERM, result.stderr
    # the signal lands after step 3; step 4 (already under way when the trainer looks) is finished and saved
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint-4"]
    assert "SIGTERM received" in result.stdout
    assert "checkpoint saved to" in result.stderr and "resume_from_checkpoint='latest'" in result.stderr

    recorder = RecordLosses()
    trainer = Trainer(tiny_model(dropout=0.1), None, tiny_config(out, max_steps=8), TokenWindows(64),
                      callbacks=[recorder])
    trainer.train(resume_from_checkpoint="latest")
    assert sorted(recorder.losses) == [5, 6, 7, 8]
    saved = GPT2Model.from_pretrained(out / "checkpoint-4")
    assert saved.config == trainer.model.config
    assert all(torch.isfinite(p).all() for p in saved.parameters())
