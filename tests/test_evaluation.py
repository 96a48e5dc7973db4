"""Validation loss, perplexity and bits per byte against a direct computation; the trainer and the stage agree."""

import json
import math

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

from ailab.datasets import PackedTokens, PackedWindowDataset, pack_documents
from ailab.evaluation import EvaluationWindows, evaluate_language_model, evaluate_windows
from ailab.models.gpt2 import GPT2Config, GPT2Model
from ailab.tokenizers import StrippedAsciiTokenizer
from ailab.trainers import Trainer, TrainingConfig
from tests.tokenizers.text_samples import make_corpus


def tiny_model(vocab_size: int = 40, n_ctx: int = 16) -> GPT2Model:
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=vocab_size, n_ctx=n_ctx, n_layers=1, d_model=16, n_heads=2, d_ff=32, dropout=0.0, eos_token_id=0
    )
    return GPT2Model(config).eval()


@pytest.fixture
def model():
    return tiny_model()


def test_every_token_after_the_first_is_predicted_once(model):
    tokens = np.random.default_rng(0).integers(0, 40, size=1 + 15 * 7, dtype=np.uint16)  # exactly 7 windows
    metrics = evaluate_language_model(
        model, tokens, num_bytes=500, window=16, batch_size=3, device="cpu", progress=False
    )

    # Reference: one long causal pass is not possible (n_ctx=16), so score each window's 15 targets directly.
    nats = 0.0
    for start in range(0, len(tokens) - 1, 15):
        x = torch.tensor(tokens[start : start + 16], dtype=torch.long)[None]
        logits = model(x).logits[0, :-1]
        nats += F.cross_entropy(logits, x[0, 1:], reduction="sum").item()
    assert metrics["val_tokens"] == len(tokens) - 1
    assert metrics["val_loss"] == pytest.approx(nats / (len(tokens) - 1), rel=1e-5)
    assert metrics["perplexity"] == pytest.approx(math.exp(metrics["val_loss"]), rel=1e-6)
    assert metrics["bits_per_byte"] == pytest.approx(nats / (math.log(2) * 500), rel=1e-5)


def test_max_batches_scales_the_bytes_to_the_part_evaluated(model):
    tokens = np.random.default_rng(1).integers(0, 40, size=1 + 15 * 8, dtype=np.uint16)
    full = evaluate_language_model(model, tokens, 800, window=16, batch_size=4, device="cpu", progress=False)
    half = evaluate_language_model(
        model, tokens, 800, window=16, batch_size=4, max_batches=1, device="cpu", progress=False
    )
    assert half["val_tokens"] == full["val_tokens"] // 2
    assert half["bits_per_byte"] == pytest.approx(half["val_loss"] / math.log(2) * (60 / 400), rel=1e-5)


def test_a_split_shorter_than_one_window_is_an_error(model):
    with pytest.raises(ValueError, match="fewer than one window of 16"):
        evaluate_language_model(model, np.zeros(10, dtype=np.uint16), 10, window=16, device="cpu", progress=False)


def test_trainer_evaluate_and_the_evaluate_stage_give_the_same_numbers_on_the_same_data(tmp_path):
    tokenizer = StrippedAsciiTokenizer()
    documents = make_corpus(num_docs=120)
    for split, docs in (("train", documents[:80]), ("validation", documents[80:])):
        pack_documents(docs, tokenizer, tmp_path / f"{split}.bin", num_proc=1, progress=False)
    validation = PackedTokens(tmp_path / "validation.bin")
    args = TrainingConfig(
        output_dir=str(tmp_path / "checkpoints"), max_steps=3, warmup_steps=0, train_batch_size=4, logging_steps=1,
        device="cpu", seed=0,
    )  # fmt: skip
    model = tiny_model(tokenizer.vocab_size, n_ctx=32)
    train_set = PackedWindowDataset(tmp_path / "train.bin", window=32)
    trainer = Trainer(model, tokenizer, args, train_set, EvaluationWindows(validation, window=32), callbacks=[])
    trainer.train()

    during_training = trainer.evaluate()
    stage = evaluate_language_model(
        trainer.model, validation.tokens, validation.num_bytes, window=32, batch_size=7, device="cpu", progress=False
    )
    assert during_training["eval_loss"] == pytest.approx(stage["val_loss"], rel=1e-6)
    assert during_training["eval_bits_per_byte"] == pytest.approx(stage["bits_per_byte"], rel=1e-6)
    assert stage["val_tokens"] == (len(validation) - 1) // 31 * 31  # every token but the first, up to the last window
    tiled = Trainer(model, tokenizer, args, train_set, PackedWindowDataset(validation, window=32), callbacks=[])
    assert tiled.evaluate()["eval_loss"] != pytest.approx(stage["val_loss"], rel=1e-6)  # the test can tell them apart


def test_a_token_id_outside_the_models_vocabulary_is_named(model):
    tokens = np.zeros(40, dtype=np.uint16)
    tokens[20] = 45
    with pytest.raises(ValueError, match=r"token id 45 in the evaluation data .* \(vocab_size=40, ids 0..39\)"):
        evaluate_language_model(model, tokens, 40, window=16, device="cpu", progress=False)


def _evaluate_on_rank(rank: int, store: str, tokens: np.ndarray, out_dir: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=2)
    try:
        windows = EvaluationWindows(tokens, window=16, num_bytes=700)
        metrics = evaluate_windows(tiny_model(), windows, batch_size=3, device="cpu", rank=rank, world_size=2)
        with open(f"{out_dir}/rank{rank}.json", "w") as f:
            json.dump(metrics, f)
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_two_ranks_share_the_batches_and_give_the_one_process_numbers(tmp_path):
    tokens = np.random.default_rng(2).integers(0, 40, size=1 + 15 * 11, dtype=np.uint16)  # 11 windows, 4 batches
    mp.spawn(_evaluate_on_rank, args=(str(tmp_path / "store"), tokens, str(tmp_path)), nprocs=2)
    single = evaluate_windows(tiny_model(), EvaluationWindows(tokens, 16, 700), batch_size=3, device="cpu")
    for rank in (0, 1):
        ranked = json.loads((tmp_path / f"rank{rank}.json").read_text())
        assert ranked["val_tokens"] == single["val_tokens"] == len(tokens) - 1
        assert ranked["val_loss"] == pytest.approx(single["val_loss"], rel=1e-9)
        assert ranked["bits_per_byte"] == pytest.approx(single["bits_per_byte"], rel=1e-9)


def test_padding_labels_are_not_predicted_and_the_mean_is_over_tokens(model):
    g = torch.Generator().manual_seed(3)
    ids = torch.randint(0, 40, (3, 16), generator=g)
    labels = ids.clone()
    labels[0, 6:] = -100  # a short document, right-padded
    labels[2, :] = -100  # padding only: a batch of its own, which must not turn the sums into NaN
    examples = [{"input_ids": ids[i], "labels": labels[i]} for i in range(3)]
    metrics = evaluate_windows(model, examples, batch_size=2, device="cpu")

    logits = model(ids[:2]).logits[:, :-1]
    targets = labels[:2, 1:]
    nats = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-100, reduction="sum").item()
    assert metrics["val_tokens"] == 5 + 15
    assert metrics["val_loss"] == pytest.approx(nats / 20, rel=1e-5)
    assert "bits_per_byte" not in metrics
