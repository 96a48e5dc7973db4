"""Two gloo processes under torchrun follow the loss curve of one process with the same global batch."""

import json

import pytest

from ailab.trainers import Trainer
from ailab.trainers.checkpoint import load_training_state
from tests.trainers.subprocess_env import run_tiny_training
from tests.trainers.tiny_training import RecordLosses, TokenWindows, tiny_config, tiny_model


@pytest.mark.slow
def test_two_process_ddp_matches_one_process_with_the_same_global_batch(tmp_path):
    out, losses_file = tmp_path / "ddp", tmp_path / "losses.json"
    result = run_tiny_training(
        "--output-dir",
        out,
        "--max-steps",
        6,
        "--save-steps",
        6,
        "--batch-size",
        4,
        "--accum",
        2,
        "--losses-file",
        losses_file,
        "--final-dir",
        tmp_path / "final",
        nproc=2,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    ddp_losses = {int(step): loss for step, loss in json.loads(losses_file.read_text()).items()}

    recorder = RecordLosses()
    single = Trainer(
        tiny_model(),
        None,
        tiny_config(tmp_path / "single", max_steps=6, train_batch_size=16),
        TokenWindows(64),
        callbacks=[recorder],
    )
    single.train()
    assert sorted(ddp_losses) == list(range(1, 7))
    assert list(ddp_losses.values()) == pytest.approx(list(recorder.losses.values()), rel=1e-5)

    state = load_training_state(out / "checkpoint-6")
    assert len(state["rng"]) == 2  # one RNG state per rank, restored rank by rank on resume
    assert not state["rng"][0]["torch"].equal(state["rng"][1]["torch"])
    assert (tmp_path / "final" / "model.safetensors").is_file()
