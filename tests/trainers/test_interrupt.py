"""SIGTERM (and Ctrl-C, the same path): finish the step, save a checkpoint, exit 128+signal with how to resume."""

import signal

import torch

from ailab.models.gpt2 import GPT2Model
from ailab.trainers import Trainer
from tests.trainers.subprocess_env import run_tiny_training
from tests.trainers.tiny_training import RecordLosses, TokenWindows, tiny_config, tiny_model


def test_sigterm_saves_a_checkpoint_and_says_how_to_resume(tmp_path):
    out = tmp_path / "run"
    result = run_tiny_training(
        "--output-dir",
        out,
        "--max-steps",
        8,
        "--dropout",
        0.1,
        "--term-at-step",
        3,
        "--losses-file",
        tmp_path / "losses.json",
    )
    assert result.returncode == 128 + signal.SIGTERM, result.stderr
    # the signal lands as step 3 ends: step 3 is saved and no further step runs
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint-3"]
    assert "SIGTERM received" in result.stdout
    assert "checkpoint saved to" in result.stderr and "resume_from_checkpoint='latest'" in result.stderr

    recorder = RecordLosses()
    trainer = Trainer(
        tiny_model(dropout=0.1), None, tiny_config(out, max_steps=8), TokenWindows(64), callbacks=[recorder]
    )
    trainer.train(resume_from_checkpoint="latest")
    assert sorted(recorder.losses) == [4, 5, 6, 7, 8]
    saved = GPT2Model.from_pretrained(out / "checkpoint-3")
    assert saved.config == trainer.model.config
    assert all(torch.isfinite(p).all() for p in saved.parameters())


def test_ctrl_c_in_process_raises_training_interrupted_and_restores_the_handlers(tmp_path):
    from ailab.trainers import TrainingInterrupted
    from tests.trainers.tiny_training import SignalAtStep

    handler_before = signal.getsignal(signal.SIGINT)
    trainer = Trainer(
        tiny_model(),
        None,
        tiny_config(tmp_path, max_steps=8),
        TokenWindows(64),
        callbacks=[SignalAtStep(2, signal.SIGINT)],
    )
    try:
        trainer.train()
    except TrainingInterrupted as stop:
        assert stop.exit_code == 130 and stop.step == 2 and stop.checkpoint_dir == tmp_path / "checkpoint-2"
    else:
        raise AssertionError("SIGINT did not stop training")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-2"]
    assert signal.getsignal(signal.SIGINT) is handler_before
