"""Fixtures shared by the tokenizer tests."""

from __future__ import annotations

import pytest

from tests.tokenizers.text_samples import make_corpus


@pytest.fixture(scope="session")
def corpus() -> list[str]:
    return make_corpus()
