import csv
import json
import math

import pytest
import torch

from ailab.evaluation import EvaluationWindows, evaluate_windows
from ailab.models.gpt2 import GPT2Model
from ailab.trainers import CsvLoggerCallback, NonFiniteLossError, Trainer, TrainerCallback
from ailab.trainers.checkpoint import load_training_state
from ailab.trainers.optim import param_groups
from ailab.trainers.sampler import ShuffledBatchSampler, collate
from tests.trainers.tiny_training import RecordLosses, TokenWindows, tiny_config, tiny_model


def reference_run(dataset, steps, *, batch_size, lr, max_grad_norm, weight_decay=0.1):
    """Plain fwd/bwd/clip/AdamW loop (constant lr) over the trainer's data order: what the trainer must reproduce."""
    model = tiny_model()
    opt = torch.optim.AdamW(param_groups(model, weight_decay), lr=lr, betas=(0.9, 0.95), foreach=True)
    sampler = ShuffledBatchSampler(len(dataset), batch_size, seed=0)
    norms = []
    for _ in range(steps):
        batch = collate(dataset, sampler.next_batch())
        model(batch["input_ids"], labels=batch["labels"]).loss.backward()
        norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm or math.inf).item())
        opt.step()
        opt.zero_grad()
    return model, norms


def constant_lr(tmp_path, **overrides):
    return tiny_config(tmp_path, lr_scheduler="constant", warmup_steps=0, **overrides)


def test_clipping_matches_a_plain_loop_and_logs_the_pre_clip_norm(tmp_path):
    dataset, recorder = TokenWindows(64), RecordLosses()
    args = constant_lr(tmp_path, max_steps=4, max_grad_norm=0.05)
    trainer = Trainer(tiny_model(), None, args, dataset, callbacks=[recorder])
    trainer.train()
    reference, norms = reference_run(dataset, 4, batch_size=4, lr=args.learning_rate, max_grad_norm=0.05)
    logged = [row["grad_norm"] for row in recorder.logs]
    assert logged == pytest.approx(norms, rel=1e-5)
    assert min(logged) > 0.05  # clipping was active at every step
    assert_same_weights_but_key_bias(trainer.model, reference)


def assert_same_weights_but_key_bias(a, b):
    """Key biases get a gradient that is zero up to rounding (softmax ignores a constant shift of the scores), which
    Adam scales up to lr-sized noise; every other parameter must agree to float tolerance."""
    for name, p in b.state_dict().items():
        q = a.state_dict()[name]
        if name.endswith("attn.c_attn.bias"):
            d = p.shape[0] // 3
            p, q = torch.cat([p[:d], p[2 * d :]]), torch.cat([q[:d], q[2 * d :]])
        torch.testing.assert_close(q, p, rtol=1e-4, atol=1e-6, msg=name)


def test_accumulating_two_batches_of_4_equals_one_batch_of_8(tmp_path):
    dataset, rec_a, rec_b = TokenWindows(64), RecordLosses(), RecordLosses()
    accumulated = Trainer(
        tiny_model(),
        None,
        constant_lr(tmp_path / "a", max_steps=3, train_batch_size=4, gradient_accumulation_steps=2),
        dataset,
        callbacks=[rec_a],
    )
    big_batch = Trainer(
        tiny_model(), None, constant_lr(tmp_path / "b", max_steps=3, train_batch_size=8), dataset, callbacks=[rec_b]
    )
    accumulated.train()
    big_batch.train()
    assert list(rec_a.losses.values()) == pytest.approx(list(rec_b.losses.values()), rel=1e-5)
    assert [r["grad_norm"] for r in rec_a.logs] == pytest.approx([r["grad_norm"] for r in rec_b.logs], rel=1e-4)
    assert_same_weights_but_key_bias(accumulated.model, big_batch.model)


def test_fp16_autocast_with_grad_scaler_on_cpu_skips_overflowing_steps(tmp_path):
    args = constant_lr(tmp_path, max_steps=3, mixed_precision="fp16", save_steps=3)
    trainer = Trainer(tiny_model(), None, args, TokenWindows(64), callbacks=[])
    assert trainer.scaler.is_enabled()
    trainer.scaler = torch.amp.GradScaler("cpu", init_scale=2.0**60)  # fp16 gradients overflow at this scale
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    out = trainer.train()
    assert math.isfinite(out["train_loss"])
    # every overflowing step is skipped and halves the scale; parameters are untouched until the scale fits
    scale = trainer.scaler.get_scale()
    assert scale < 2.0**60
    saved = load_training_state(tmp_path / "checkpoint-3")["scaler"]
    assert saved["scale"] == scale
    changed = any(not torch.equal(before[k], v) for k, v in trainer.model.state_dict().items())
    assert changed == (scale < 2.0**57)  # 3 skipped steps leave 2**57 and no update


def test_fp16_scaler_updates_weights_with_a_sane_scale(tmp_path):
    trainer = Trainer(
        tiny_model(), None, constant_lr(tmp_path, max_steps=2, mixed_precision="fp16"), TokenWindows(64), callbacks=[]
    )
    before = trainer.model.h[0].mlp.c_fc.weight.detach().clone()
    trainer.train()
    assert trainer.scaler.get_scale() == 2.0**16  # default init scale, no overflow
    assert not torch.equal(before, trainer.model.h[0].mlp.c_fc.weight)


class PoisonAtStep(TrainerCallback):
    def __init__(self, trainer_ref, step):
        self.trainer_ref, self.step = trainer_ref, step

    def on_step_end(self, state):
        if state.global_step == self.step:
            with torch.no_grad():
                self.trainer_ref[0].model.wte.weight.fill_(float("inf"))


def test_non_finite_loss_names_the_step_and_the_last_good_checkpoint(tmp_path):
    ref = []
    trainer = Trainer(
        tiny_model(), None, tiny_config(tmp_path, save_steps=2), TokenWindows(64), callbacks=[PoisonAtStep(ref, 3)]
    )
    ref.append(trainer)
    with pytest.raises(NonFiniteLossError, match=r"loss is nan at step 4; last good checkpoint: .*checkpoint-2"):
        trainer.train()


def test_evaluation_tracks_best_and_last_and_matches_a_manual_mean(tmp_path):
    evals = []

    class Evals(TrainerCallback):
        def on_evaluate(self, state, metrics):
            evals.append((state.global_step, metrics["eval_loss"], metrics["best_eval_loss"]))

    eval_set = TokenWindows(10, seed=1)
    args = tiny_config(tmp_path, max_steps=6, eval_steps=2, eval_batches=2)
    trainer = Trainer(tiny_model(), None, args, TokenWindows(64), eval_dataset=eval_set, callbacks=[Evals()])
    out = trainer.train()
    assert [step for step, _, _ in evals] == [2, 4, 6]
    assert out["eval_loss"] == evals[-1][1]
    assert out["best_eval_loss"] == min(loss for _, loss, _ in evals) == evals[-1][2]
    trainer.model.eval()
    with torch.no_grad():
        losses = [trainer.model(eval_set.data[i : i + 4], labels=eval_set.data[i : i + 4]).loss for i in (0, 4)]
    assert trainer.evaluate()["eval_loss"] == pytest.approx(torch.stack(losses).mean().item(), rel=1e-6)
    assert trainer.model.training is False  # evaluate() restores the mode it found


def test_evaluation_with_token_windows_reports_bits_per_byte_of_the_batches_it_read(tmp_path):
    tokens = TokenWindows(40, seed=2).data.flatten().numpy()
    eval_set = EvaluationWindows(tokens, window=16, num_bytes=2 * len(tokens))
    evals = []

    class Evals(TrainerCallback):
        def on_evaluate(self, state, metrics):
            evals.append(metrics)

    args = tiny_config(tmp_path, max_steps=3, eval_steps=3, eval_batches=3)
    trainer = Trainer(tiny_model(), None, args, TokenWindows(64), eval_dataset=eval_set, callbacks=[Evals()])
    trainer.train()
    expected = evaluate_windows(trainer.model, eval_set, batch_size=4, max_batches=3, device="cpu")
    assert expected["val_tokens"] == 3 * 4 * 15 < len(tokens) - 1  # only the first 3 batches
    assert evals[-1]["eval_loss"] == expected["val_loss"]
    assert evals[-1]["eval_bits_per_byte"] == expected["bits_per_byte"]
    unknown_bytes = Trainer(tiny_model(), None, args, TokenWindows(64), eval_dataset=TokenWindows(8), callbacks=[])
    assert set(unknown_bytes.evaluate()) == {"eval_loss"}  # a dataset that does not know its bytes: the loss only


def test_resume_refuses_changed_settings_and_names_them(tmp_path):
    Trainer(
        tiny_model(), None, tiny_config(tmp_path, max_steps=4, save_steps=2), TokenWindows(64), callbacks=[]
    ).train()
    changed = Trainer(
        tiny_model(dropout=0.1),
        None,
        tiny_config(tmp_path, max_steps=4, save_steps=2, learning_rate=1e-2, train_batch_size=8),
        TokenWindows(64),
        callbacks=[],
    )
    with pytest.raises(ValueError) as error:
        changed.train(resume_from_checkpoint="latest")
    message = str(error.value)
    for key in ("learning_rate: checkpoint 0.003, now 0.01", "train_batch_size", "model.dropout"):
        assert key in message
    assert "max_steps" not in message and "seed" not in message


def test_latest_without_checkpoints_starts_fresh_and_a_finished_run_resumes_to_nothing(tmp_path):
    args = tiny_config(tmp_path, max_steps=3, save_steps=3)
    first = Trainer(tiny_model(), None, args, TokenWindows(64), callbacks=[]).train(resume_from_checkpoint="latest")
    assert first["global_step"] == 3
    again = Trainer(tiny_model(seed=1), None, args, TokenWindows(64), callbacks=[])
    assert again.train(resume_from_checkpoint="latest")["global_step"] == 3
    with pytest.raises(FileNotFoundError, match="not a checkpoint folder"):
        again.train(resume_from_checkpoint=tmp_path / "nope")


def test_checkpoint_contents_pruning_and_final_save(tmp_path):
    class Tok:
        def save(self, directory):
            (directory / "ailab_tokenizer.json").write_text('{"kind": "test"}')

    args = tiny_config(tmp_path, max_steps=6, save_steps=2, save_total_limit=2)
    trainer = Trainer(tiny_model(), Tok(), args, TokenWindows(64), callbacks=[])
    trainer.train()
    assert sorted(p.name for p in tmp_path.glob("checkpoint-*")) == ["checkpoint-4", "checkpoint-6"]
    assert not list(tmp_path.glob(".*"))  # no temporary folders left behind
    ckpt = tmp_path / "checkpoint-6"
    assert {p.name for p in ckpt.iterdir()} == {
        "config.json",
        "model.safetensors",
        "training_state.pt",
        "trainer_state.json",
        "ailab_tokenizer.json",
    }
    meta = json.loads((ckpt / "trainer_state.json").read_text())
    assert meta["step"] == 6 and meta["training_config"]["save_total_limit"] == 2
    assert len(meta["resume_config_fingerprint"]) == 64
    state = load_training_state(ckpt)  # weights_only=True: plain containers and tensors only
    assert state["sampler"] == {"epoch": 0, "batch_index": 6, "seed": 0}
    assert set(state["rng"][0]) == {"python", "numpy", "torch"}
    trainer.save_model(tmp_path / "final")
    loaded = GPT2Model.from_pretrained(tmp_path / "final")
    assert (tmp_path / "final" / "ailab_tokenizer.json").is_file()
    for name, p in trainer.model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], p)


def test_epochs_derive_max_steps_and_warmup_must_fit(tmp_path):
    trainer = Trainer(
        tiny_model(),
        None,
        tiny_config(tmp_path, max_steps=None, num_train_epochs=2, gradient_accumulation_steps=2),
        TokenWindows(64),
        callbacks=[],
    )
    assert trainer.max_steps == 2 * 64 // (4 * 2)
    with pytest.raises(ValueError, match=r"warmup_steps \(8\) must be smaller"):
        Trainer(tiny_model(), None, tiny_config(tmp_path, warmup_steps=8), TokenWindows(64), callbacks=[])
    with pytest.raises(ValueError, match="fewer than one global micro-batch"):
        Trainer(tiny_model(), None, tiny_config(tmp_path), TokenWindows(3), callbacks=[])
    with pytest.raises(ValueError, match="eval_steps is set but Trainer got no eval_dataset"):
        Trainer(tiny_model(), None, tiny_config(tmp_path, eval_steps=2), TokenWindows(64), callbacks=[])


def test_csv_logger_keeps_one_row_per_step_and_drops_rows_past_the_resumed_step(tmp_path):
    plots, evals = tmp_path / "plots" / "train.csv", tmp_path / "plots" / "eval.csv"
    args = tiny_config(tmp_path, max_steps=6, save_steps=2, eval_steps=3)
    eval_set = TokenWindows(8, seed=1)
    logger = CsvLoggerCallback(plots, evals)
    Trainer(tiny_model(), None, args, TokenWindows(64), eval_set, callbacks=[logger]).train()
    straight, straight_evals = list(csv.DictReader(plots.open())), list(csv.DictReader(evals.open()))
    assert [int(r["step"]) for r in straight] == [1, 2, 3, 4, 5, 6]
    assert list(straight[0]) == ["step", "loss", "learning_rate", "grad_norm", "tokens_per_second"]
    assert all(value != "" for row in straight for value in row.values())
    assert [r["step"] for r in straight_evals] == ["3", "6"] and all(r["eval_loss"] for r in straight_evals)

    with plots.open("a") as f:  # a row the killed run wrote after its last checkpoint, and beyond
        f.write("7,9,9,9,9\n")
    Trainer(tiny_model(), None, args, TokenWindows(64), eval_set, callbacks=[CsvLoggerCallback(plots, evals)]).train(
        resume_from_checkpoint=tmp_path / "checkpoint-2"
    )
    resumed = list(csv.DictReader(plots.open()))
    assert [r["step"] for r in resumed] == [r["step"] for r in straight]
    assert [r["loss"] for r in resumed] == [r["loss"] for r in straight]
    assert list(csv.DictReader(evals.open())) == straight_evals
    tsv = CsvLoggerCallback(tmp_path / "metrics.tsv")
    assert tsv.delimiter == "\t" and tsv.evaluations.path == tmp_path / "metrics_eval.tsv"


def test_a_crash_mid_save_leaves_earlier_checkpoints_and_no_partial_folder(tmp_path):
    trainer = Trainer(
        tiny_model(), None, tiny_config(tmp_path, max_steps=4, save_steps=2), TokenWindows(64), callbacks=[]
    )
    real_save = trainer.model.save_pretrained
    calls = []

    def save_then_crash(directory):
        calls.append(directory)
        real_save(directory)
        if len(calls) == 2:
            raise OSError("disk full")

    trainer.model.save_pretrained = save_then_crash
    with pytest.raises(OSError, match="disk full"):
        trainer.train()
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint-2"]
    assert load_training_state(tmp_path / "checkpoint-2")["trainer"]["global_step"] == 2


def test_training_data_with_an_id_outside_the_vocabulary_is_refused_before_it_reaches_the_model(tmp_path):
    dataset = TokenWindows(64)
    dataset.data[5, 3] = 64  # the tiny model's ids are 0..63
    trainer = Trainer(tiny_model(), None, tiny_config(tmp_path, max_steps=30), dataset, callbacks=[])
    with pytest.raises(
        ValueError, match=r"token id 64 in the training data is outside .*vocab_size=64.*re-run prepare"
    ):
        trainer.train()
