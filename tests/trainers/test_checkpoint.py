"""Checkpoint folders read back safely: a damaged one is named and skipped, never loaded unsafely, never deleted."""

from __future__ import annotations

import os
import pickle

import pytest

from ailab.trainers import Trainer
from ailab.trainers.checkpoint import DamagedCheckpointError, newest_intact_checkpoint, read_checkpoint

from .tiny_training import TokenWindows, tiny_config, tiny_model


@pytest.fixture
def three_checkpoints(tmp_path):
    """checkpoint-2, -4 and -6 of one tiny run."""
    trainer = Trainer(
        tiny_model(), None, tiny_config(tmp_path, max_steps=6, save_steps=2), TokenWindows(64), callbacks=[]
    )
    trainer.train()
    return tmp_path


def truncate(file):
    """Cut a file in half, as a full disk or an interrupted copy does."""
    file.write_bytes(file.read_bytes()[: file.stat().st_size // 2])


class Payload:
    """A pickle that would create a file if it were ever unpickled with code execution."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize(
    ("file", "damage", "says"),
    [
        ("model.safetensors", truncate, "is damaged"),
        ("training_state.pt", truncate, "is damaged"),
        ("trainer_state.json", lambda f: f.write_text("{"), "is damaged"),
        ("training_state.pt", lambda f: f.write_bytes(pickle.dumps(Payload(f.parent / "pwned"))), "is not a valid"),
    ],
)
def test_each_damaged_file_is_named(three_checkpoints, file, damage, says):
    damage(three_checkpoints / "checkpoint-6" / file)
    with pytest.raises(DamagedCheckpointError, match=f"checkpoint-6/{file} {says}") as caught:
        read_checkpoint(three_checkpoints / "checkpoint-6")
    assert "weights_only" not in str(caught.value) and not (three_checkpoints / "checkpoint-6" / "pwned").exists()
    assert caught.value.__cause__ is None or "weights_only" not in str(caught.value.__cause__)


def test_resume_skips_damaged_checkpoints_with_a_warning_and_deletes_none(three_checkpoints):
    truncate(three_checkpoints / "checkpoint-6" / "model.safetensors")
    truncate(three_checkpoints / "checkpoint-4" / "training_state.pt")
    with pytest.warns(UserWarning) as caught:
        found = newest_intact_checkpoint(three_checkpoints)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2 and all(
        m.endswith("resuming from " + str(three_checkpoints / "checkpoint-2")) for m in messages
    )
    assert "checkpoint-6/model.safetensors is damaged" in messages[0]
    assert "checkpoint-4/training_state.pt is damaged" in messages[1]
    assert found.path.name == "checkpoint-2" and found.metadata["step"] == 2
    assert sorted(p.name for p in three_checkpoints.iterdir()) == ["checkpoint-2", "checkpoint-4", "checkpoint-6"]


def test_no_intact_checkpoint_is_an_error_saying_how_to_start_over(three_checkpoints):
    for step in (2, 4, 6):
        truncate(three_checkpoints / f"checkpoint-{step}" / "model.safetensors")
    trainer = Trainer(tiny_model(), None, tiny_config(three_checkpoints, max_steps=6, save_steps=2), TokenWindows(64))
    with pytest.raises(DamagedCheckpointError, match=r"no intact checkpoint in .*--restart"):
        trainer.train(resume_from_checkpoint="latest")
    assert newest_intact_checkpoint(three_checkpoints / "nothing") is None


def test_a_resume_from_the_fallback_finishes_like_a_straight_run(three_checkpoints, tmp_path_factory):
    straight = three_checkpoints / "checkpoint-6" / "model.safetensors"
    expected = straight.read_bytes()
    truncate(straight)
    trainer = Trainer(
        tiny_model(), None, tiny_config(three_checkpoints, max_steps=6, save_steps=2), TokenWindows(64), callbacks=[]
    )
    with pytest.warns(UserWarning, match="checkpoint-6"):
        assert trainer.checkpoint_to_resume("latest").name == "checkpoint-4"
        trainer.train(resume_from_checkpoint="latest")
    assert straight.read_bytes() == expected  # resumed from step 4, checkpoint-6 written again, bit for bit
