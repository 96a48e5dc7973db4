"""The training step never waits on the host: device values are read only at logging, eval and save steps."""

import os
import traceback

import pytest
import torch
from torch._dynamo.utils import counters
from torch.utils._python_dispatch import TorchDispatchMode

from ailab.trainers import NonFiniteLossError, Trainer, TrainerCallback
from tests.trainers.test_trainer import PoisonAtStep
from tests.trainers.tiny_training import RecordLosses, TokenWindows, tiny_config, tiny_model


class HostReads(TorchDispatchMode):
    """Records the trainer's step at every read of a tensor value by the host (`item`, `float`, `bool`, `int` all
    dispatch `aten._local_scalar_dense`; on CUDA each one waits for the queued kernels).

    Left out, as they read host data that stays on the host on CUDA too: reads inside torch.optim (on the CPU,
    AdamW's multi-tensor kernel keeps its step counts as host scalars; on CUDA the trainer uses the fused kernel,
    whose step counts stay on the device) and the token-id check of each batch before it is copied to the device.
    """

    def __init__(self, trainer: Trainer) -> None:
        super().__init__()
        self.trainer, self.steps = trainer, []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func is torch.ops.aten._local_scalar_dense.default and not _reads_host_data():
            self.steps.append(self.trainer.state.global_step)
        return func(*args, **(kwargs or {}))


def _reads_host_data() -> bool:
    host_readers = (f"torch{os.sep}optim{os.sep}", f"ailab{os.sep}token_ids.py")
    return any(reader in frame.filename for frame in traceback.extract_stack() for reader in host_readers)


def test_the_host_reads_the_device_only_at_logging_steps(tmp_path, monkeypatch):
    float_lists = []
    tolist = torch.Tensor.tolist

    def recording_tolist(tensor):
        if tensor.is_floating_point():
            float_lists.append(tensor.shape)
        return tolist(tensor)

    monkeypatch.setattr(torch.Tensor, "tolist", recording_tolist)
    recorder = RecordLosses()
    trainer = Trainer(
        tiny_model(), None, tiny_config(tmp_path, max_steps=8, logging_steps=4), TokenWindows(64), callbacks=[recorder]
    )
    with HostReads(trainer) as reads:
        trainer.train()
    assert reads.steps and set(reads.steps) <= {4, 8}  # steps 1-3 and 5-7 queue work and never wait
    assert float_lists == []
    assert [row["step"] for row in recorder.logs] == [4, 8]


def test_logged_means_equal_the_per_step_values(tmp_path):
    every, window = RecordLosses(), RecordLosses()
    Trainer(tiny_model(), None, tiny_config(tmp_path / "a", max_steps=6), TokenWindows(64), callbacks=[every]).train()
    args = tiny_config(tmp_path / "b", max_steps=6, logging_steps=3)
    Trainer(tiny_model(), None, args, TokenWindows(64), callbacks=[window]).train()
    for row, steps in zip(window.logs, ([0, 1, 2], [3, 4, 5])):
        assert row["loss"] == sum(every.logs[i]["loss"] for i in steps) / 3
        assert row["grad_norm"] == pytest.approx(sum(every.logs[i]["grad_norm"] for i in steps) / 3, rel=1e-6)


def test_a_nan_between_logging_steps_is_caught_at_the_next_one_naming_its_step(tmp_path):
    ref = []
    args = tiny_config(tmp_path, max_steps=12, logging_steps=4, save_steps=4)
    trainer = Trainer(tiny_model(), None, args, TokenWindows(64), callbacks=[PoisonAtStep(ref, 5)])
    ref.append(trainer)
    with pytest.raises(NonFiniteLossError, match=r"loss is nan at step 6; last good checkpoint: .*checkpoint-4"):
        trainer.train()
    assert trainer.state.global_step == 8  # found at the sync point of step 8 ...
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-4"]  # ... before its checkpoint was written


class GraphCount(TrainerCallback):
    def __init__(self) -> None:
        self.after_step: list[int] = []

    def on_step_end(self, state):
        self.after_step.append(counters["stats"]["unique_graphs"])


def test_compiled_training_compiles_once_and_resumes_exactly(tmp_path):
    counters.clear()
    torch._dynamo.reset()
    graphs, straight_losses = GraphCount(), RecordLosses()
    args = dict(max_steps=6, save_steps=3, compile=True)
    straight = Trainer(
        tiny_model(), None, tiny_config(tmp_path / "a", **args), TokenWindows(64), callbacks=[graphs, straight_losses]
    )
    straight.train()
    assert graphs.after_step == [1] * 6  # the first step compiled the graph; no step after it recompiled

    resumed_losses = RecordLosses()
    resumed = Trainer(
        tiny_model(), None, tiny_config(tmp_path / "a", **args), TokenWindows(64), callbacks=[resumed_losses]
    )
    resumed.train(resume_from_checkpoint=tmp_path / "a" / "checkpoint-3")
    assert resumed_losses.losses == {s: straight_losses.losses[s] for s in range(4, 7)}
    for (name, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name
