"""Shared fixtures: small real tokenizers and a handful of documents (seeded, built once per session)."""

from __future__ import annotations

import random

import pytest

from ailab.tokenizers import BpeTokenizer, StrippedAsciiTokenizer

WORDS = "the cat dog sun tree ran saw happy little big red blue went home played with a ball".split()


def make_documents(n: int, seed: int = 0) -> list[str]:
    """n short, distinct, seeded pseudo-stories (some with non-ASCII text, to make bytes != chars)."""
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        words = [rng.choice(WORDS) for _ in range(rng.randint(3, 30))]
        extra = " Café — naïve ☀." if i % 7 == 3 else ""
        docs.append(f"Story {i}: " + " ".join(words) + "." + extra)
    return docs


@pytest.fixture(scope="session")
def documents() -> list[str]:
    return make_documents(60)


@pytest.fixture(scope="session")
def bpe(documents) -> BpeTokenizer:
    return BpeTokenizer.train(documents * 3, vocab_size=320)


@pytest.fixture(scope="session")
def ascii_tokenizer() -> StrippedAsciiTokenizer:
    return StrippedAsciiTokenizer()


@pytest.fixture(autouse=True, scope="session")
def _datasets_cache_in_tmp(tmp_path_factory):
    """Keep the Arrow caches `datasets` writes for local files out of ~/.cache."""
    import datasets

    old = datasets.config.HF_DATASETS_CACHE
    datasets.config.HF_DATASETS_CACHE = tmp_path_factory.mktemp("hf_datasets_cache")
    yield
    datasets.config.HF_DATASETS_CACHE = old
