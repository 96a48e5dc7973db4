"""PackedWindowDataset: window i is tokens[i*stride : i*stride+window] of the packed stream, read from the memmap."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, RandomSampler

from ailab.datasets import PackedTokens, PackedWindowDataset, pack_documents


@pytest.fixture()
def packed(tmp_path, bpe, documents) -> PackedTokens:
    pack_documents(documents, bpe, tmp_path / "train.bin", num_proc=1)
    return PackedTokens(tmp_path / "train.bin")


def test_windows_tile_the_stream_without_stride(packed):
    stream = packed.tokens.tolist()
    ds = PackedWindowDataset(packed.path, window=16)
    assert len(ds) == len(stream) // 16
    for i in (0, 1, len(ds) - 1):
        item = ds[i]
        assert item["input_ids"].dtype == torch.long and item["input_ids"].shape == (16,)
        assert item["input_ids"].tolist() == stream[i * 16 : i * 16 + 16]
        assert torch.equal(item["labels"], item["input_ids"])
    assert ds[-1]["input_ids"].tolist() == ds[len(ds) - 1]["input_ids"].tolist()
    with pytest.raises(IndexError, match="out of range"):
        ds[len(ds)]


def test_stride_half_the_window_overlaps_by_half(packed):
    stream = packed.tokens.tolist()
    ds = PackedWindowDataset(packed, window=16, stride=8)
    assert len(ds) == (len(stream) - 16) // 8 + 1
    for i in range(len(ds)):
        assert ds[i]["input_ids"].tolist() == stream[i * 8 : i * 8 + 16]
    assert ds[3]["input_ids"][8:].tolist() == ds[4]["input_ids"][:8].tolist()
    # stride larger than the window skips tokens
    sparse = PackedWindowDataset(packed, window=4, stride=10)
    assert sparse[5]["input_ids"].tolist() == stream[50:54]
    assert len(sparse) == (len(stream) - 4) // 10 + 1


def test_labels_are_a_separate_tensor(packed):
    item = PackedWindowDataset(packed, window=8)[0]
    item["labels"][0] = -100  # e.g. a collator masking a prompt must not change the inputs
    assert item["input_ids"][0] != -100


def test_dataloader_shuffles_window_starts(packed):
    ds = PackedWindowDataset(packed, window=8)
    order = list(RandomSampler(ds, generator=torch.Generator().manual_seed(0)))
    loader = DataLoader(ds, batch_size=4, sampler=RandomSampler(ds, generator=torch.Generator().manual_seed(0)))
    batch = next(iter(loader))
    assert batch["input_ids"].shape == (4, 8) and torch.equal(batch["input_ids"], batch["labels"])
    assert batch["input_ids"].tolist() == [ds[i]["input_ids"].tolist() for i in order[:4]]
    assert order[:4] != [0, 1, 2, 3]


def test_corpus_shorter_than_a_window_is_an_error(packed):
    n = len(packed)
    with pytest.raises(ValueError, match=f"holds {n} tokens, fewer than one window of {n + 1}"):
        PackedWindowDataset(packed, window=n + 1)
    assert len(PackedWindowDataset(packed, window=n)) == 1
    with pytest.raises(ValueError, match="stride must be >= 1"):
        PackedWindowDataset(packed, window=4, stride=0)


def test_reading_a_window_copies_only_that_window(packed):
    ds = PackedWindowDataset(packed, window=8)
    assert isinstance(ds.packed.tokens, np.memmap)
    x = ds[2]["input_ids"]
    assert x.untyped_storage().nbytes() == 8 * 8  # int64 x window, not the corpus
