"""Exact resume under DDP, eager and compiled: every rank gets back its RNG state and its shard of the data position."""

import json

import pytest
from safetensors.torch import load_file

from tests.trainers.subprocess_env import run_tiny_training


@pytest.mark.slow
@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_two_process_run_resumed_from_a_checkpoint_repeats_the_straight_run_bit_for_bit(tmp_path, compiled):
    common = ["--max-steps", 6, "--save-steps", 3, "--dropout", 0.1, "--batch-size", 4, *(["--compile"] * compiled)]
    straight = run_tiny_training(
        "--output-dir",
        tmp_path / "straight",
        *common,
        "--losses-file",
        tmp_path / "straight.json",
        "--final-dir",
        tmp_path / "straight_final",
        nproc=2,
        timeout=240,
    )
    assert straight.returncode == 0, straight.stderr[-3000:]
    resumed = run_tiny_training(
        "--output-dir",
        tmp_path / "resumed",
        *common,
        "--resume",
        tmp_path / "straight" / "checkpoint-3",
        "--losses-file",
        tmp_path / "resumed.json",
        "--final-dir",
        tmp_path / "resumed_final",
        nproc=2,
        timeout=240,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    straight_losses = json.loads((tmp_path / "straight.json").read_text())
    resumed_losses = json.loads((tmp_path / "resumed.json").read_text())
    assert resumed_losses == {step: straight_losses[step] for step in ("4", "5", "6")}
    a = load_file(tmp_path / "straight_final" / "model.safetensors")
    b = load_file(tmp_path / "resumed_final" / "model.safetensors")
    assert a.keys() == b.keys() and all(a[k].equal(b[k]) for k in a)
