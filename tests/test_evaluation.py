"""Validation loss, perplexity and bits per byte against a direct computation."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ailab.evaluation import evaluate_language_model
from ailab.models.gpt2 import GPT2Config, GPT2Model


@pytest.fixture
def model():
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=40, n_ctx=16, n_layers=1, d_model=16, n_heads=2, d_ff=32, dropout=0.0, eos_token_id=0
    )
    return GPT2Model(config).eval()


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
