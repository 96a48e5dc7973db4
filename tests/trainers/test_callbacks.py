import io

import torch

from ailab.trainers import ProgressCallback, Trainer, TrainerCallback
from tests.trainers.tiny_training import TokenWindows, tiny_config, tiny_model


class Events(TrainerCallback):
    def __init__(self):
        self.seen = []

    def on_train_begin(self, state):
        self.seen.append(("begin", state.global_step))

    def on_log(self, state, logs):
        self.seen.append(("log", logs["step"]))

    def on_evaluate(self, state, metrics):
        self.seen.append(("evaluate", state.global_step))

    def on_save(self, state, checkpoint_dir):
        self.seen.append(("save", checkpoint_dir.name))

    def on_train_end(self, state):
        self.seen.append(("end", state.global_step))


def test_events_arrive_in_order_with_their_payloads(tmp_path):
    events = Events()
    args = tiny_config(tmp_path, max_steps=4, logging_steps=2, eval_steps=4, save_steps=4)
    Trainer(tiny_model(), None, args, TokenWindows(64), TokenWindows(8, seed=1), callbacks=[events]).train()
    assert events.seen == [("begin", 0), ("log", 2), ("log", 4), ("evaluate", 4), ("save", "checkpoint-4"), ("end", 4)]


def test_logs_hold_the_documented_keys_and_the_mean_loss_since_the_last_log(tmp_path):
    rows = []

    class Keep(TrainerCallback):
        def on_log(self, state, logs):
            rows.append(logs)

    Trainer(
        tiny_model(),
        None,
        tiny_config(tmp_path / "a", max_steps=4, logging_steps=2),
        TokenWindows(64),
        callbacks=[Keep()],
    ).train()
    per_step = []
    Trainer(
        tiny_model(),
        None,
        tiny_config(tmp_path / "b", max_steps=4, logging_steps=1),
        TokenWindows(64),
        callbacks=[Keep()],
    ).train()
    per_step, rows = rows[2:], rows[:2]
    assert set(rows[0]) == {"step", "epoch", "loss", "learning_rate", "grad_norm", "tokens_per_second"}
    assert rows[0]["loss"] == (per_step[0]["loss"] + per_step[1]["loss"]) / 2
    assert rows[1]["learning_rate"] == per_step[3]["learning_rate"]
    assert rows[1]["epoch"] == 4 * 4 / 64 and rows[1]["tokens_per_second"] > 0


def test_progress_prints_plain_lines_when_not_a_terminal(tmp_path):
    stream = io.StringIO()  # isatty() is False: no animated bar
    args = tiny_config(tmp_path, max_steps=4, logging_steps=2, eval_steps=4)
    Trainer(
        tiny_model(), None, args, TokenWindows(64), TokenWindows(8, seed=1), callbacks=[ProgressCallback(stream)]
    ).train()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("step 2/4 | loss ") and "tok/s | eta " in lines[0]
    assert lines[2].startswith("step 4: eval_loss ")


def test_compile_is_applied_from_outside_and_the_model_stays_plain(tmp_path):
    model = tiny_model()
    trainer = Trainer(model, None, tiny_config(tmp_path, compile=True), TokenWindows(64), callbacks=[])
    assert trainer.model is model and type(model).__name__ == "GPT2Model"
    assert isinstance(trainer._train_model, torch._dynamo.eval_frame.OptimizedModule)
    assert trainer._train_model._orig_mod is model


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_draws_a_bar_on_a_terminal(tmp_path):
    stream = FakeTerminal()
    Trainer(
        tiny_model(),
        None,
        tiny_config(tmp_path, max_steps=4, logging_steps=2),
        TokenWindows(64),
        callbacks=[ProgressCallback(stream)],
    ).train()
    final = stream.getvalue().split("\r")[-1]
    assert "4/4" in final and "loss=" in final and "tok_s=" in final
