"""Shared fixtures: tiny seeded models of both architectures and a small byte-level BPE with emoji and CJK text."""

import random

import pytest
import torch

from ailab.models import build_model
from ailab.tokenizers import BpeTokenizer

ARCHS = ("gpt2", "llama")
SIZES = {
    "gpt2": dict(n_ctx=256, n_layers=2, d_model=64, n_heads=4),
    "llama": dict(n_ctx=256, n_layers=2, d_model=64, n_heads=4, n_kv_heads=2, multiple_of=32),
}
WORDS = ["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "far", "away"]
WORDS += ["🙂", "🐈", "猫", "が", "好き", "café", "naïve"]


def make_model(arch: str, vocab_size: int = 96, eos_token_id: int | None = None, seed: int = 0, std: float = 0.2):
    """A tiny model in eval mode. Weights drawn with a large std make the logits peaky, so the argmax is far from ties
    and greedy tokens do not flip on float rounding differences between code paths."""
    torch.manual_seed(seed)
    model = build_model(arch, vocab_size=vocab_size, eos_token_id=eos_token_id, bos_token_id=None, **SIZES[arch])
    with torch.no_grad():
        for name, param in model.named_parameters():
            if param.dim() >= 2:
                param.normal_(0.0, std)
    return model.eval()


@pytest.fixture(scope="session")
def corpus() -> list[str]:
    rng = random.Random(0)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 20))) + "." for _ in range(300)]


@pytest.fixture(scope="session")
def bpe_tokenizer(corpus) -> BpeTokenizer:
    """Byte-level BPE small enough that emoji and CJK characters split into several byte tokens."""
    return BpeTokenizer.train(corpus, vocab_size=300)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models decode faster on one thread (intra-op threads only add sync per small op); restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
