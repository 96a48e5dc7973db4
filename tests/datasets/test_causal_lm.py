"""CausalLmDataset: packed windows at exact stream positions (with and without stride), unpacked padding and
truncation, and the same examples from an HF Dataset, an HF IterableDataset (streaming) and a list of dicts."""

from __future__ import annotations

import datasets
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, IterableDataset

from ailab.datasets import CausalLmDataset, StreamingCausalLmDataset
from ailab.datasets.causal_lm import IGNORE_INDEX
from ailab.tokenizers import BpeTokenizer


def stream_of(tokenizer, docs, add_bos=False):
    out = []
    for doc in docs:
        out += ([tokenizer.bos_token_id] if add_bos else []) + tokenizer.encode(doc) + [tokenizer.eos_token_id]
    return out


def test_packed_windows_start_at_multiples_of_the_stride(bpe, documents):
    records = [{"text": d, "id": i} for i, d in enumerate(documents)]
    stream = stream_of(bpe, documents)
    for length, stride in [(32, None), (32, 16), (32, 32)]:
        ds = CausalLmDataset(records, bpe, packed_length=length, packing_stride=stride)
        step = stride or length
        assert len(ds) == (len(stream) - length) // step + 1
        for i in range(len(ds)):
            item = ds[i]
            assert item["input_ids"].tolist() == stream[i * step : i * step + length]
            assert torch.equal(item["labels"], item["input_ids"]) and item["input_ids"].dtype == torch.long
    half = CausalLmDataset(records, bpe, packed_length=32, packing_stride=16)
    assert half[1]["input_ids"][:16].tolist() == half[0]["input_ids"][16:].tolist()


def test_a_stride_past_the_window_is_refused_rather_than_skipping_tokens(bpe, documents):
    records = [{"text": d} for d in documents]
    for source in (records, (r for r in records)):  # map-style and streaming
        with pytest.raises(ValueError, match=r"packing_stride=48 is larger than packed_length=32: the 16 tokens"):
            CausalLmDataset(source, bpe, packed_length=32, packing_stride=48)


def test_hf_dataset_list_and_streaming_give_the_same_examples(bpe, documents):
    records = [{"text": d} for d in documents]
    expected = [x["input_ids"].tolist() for x in CausalLmDataset(records, bpe, packed_length=24, packing_stride=10)]
    hf = datasets.Dataset.from_list(records)
    from_hf = CausalLmDataset(hf, bpe, packed_length=24, packing_stride=10)
    assert isinstance(from_hf, CausalLmDataset)
    assert [x["input_ids"].tolist() for x in from_hf] == expected

    streaming = CausalLmDataset(hf.to_iterable_dataset(num_shards=3), bpe, packed_length=24, packing_stride=10)
    assert isinstance(streaming, StreamingCausalLmDataset) and isinstance(streaming, IterableDataset)
    assert [x["input_ids"].tolist() for x in streaming] == expected
    assert [x["input_ids"].tolist() for x in streaming] == expected  # iterating again restarts the stream
    generator = CausalLmDataset((r for r in records), bpe, packed_length=24, packing_stride=10)
    assert [x["input_ids"].tolist() for x in generator] == expected


class Records:
    """A re-iterable collection that is not a Sequence: CausalLmDataset must stream it."""

    def __init__(self, records):
        self.records = records

    def __iter__(self):
        return iter(self.records)


def windows(ds):
    return [x["input_ids"].tolist() for x in ds]


def test_streaming_with_dataloader_workers(bpe, documents):
    records = [{"text": d} for d in documents]
    ds = CausalLmDataset(Records(records), bpe, packed_length=16, packing_stride=12)
    loader = DataLoader(ds, batch_size=None, num_workers=2, multiprocessing_context="fork")
    assert sorted(windows(loader)) == sorted(windows(ds))  # every window once, at the same positions

    # An HF IterableDataset hands each worker its own shard of documents; each worker packs its shard.
    hf = datasets.Dataset.from_list(records).to_iterable_dataset(num_shards=2)
    loader = DataLoader(
        CausalLmDataset(hf, bpe, packed_length=16), batch_size=None, num_workers=2, multiprocessing_context="fork"
    )
    half = len(records) // 2
    per_shard = windows(CausalLmDataset(records[:half], bpe, packed_length=16)) + windows(
        CausalLmDataset(records[half:], bpe, packed_length=16)
    )
    assert sorted(windows(loader)) == sorted(per_shard)


def test_parallel_map_matches_serial(bpe, documents):
    hf = datasets.Dataset.from_dict({"text": documents + ["a <|endoftext|> in the text"]})
    serial = CausalLmDataset(hf, bpe, packed_length=20)
    parallel = CausalLmDataset(hf, bpe, packed_length=20, num_proc=2)
    assert np.array_equal(serial.tokens, parallel.tokens)
    assert serial.tokens.tolist() == stream_of(bpe, hf["text"])


def test_unpacked_pads_and_truncates_documents(bpe, documents):
    docs = ["the big dog ran home.", "the cat " * 40]
    ds = CausalLmDataset([{"text": d} for d in docs], bpe, packed=False, packed_length=24)
    assert len(ds) == 2
    short_ids = bpe.encode(docs[0]) + [bpe.eos_token_id]
    assert len(short_ids) < 24
    item = ds[0]
    n = len(short_ids)
    assert item["input_ids"].tolist() == short_ids + [bpe.pad_token_id] * (24 - n)
    assert item["labels"].tolist() == short_ids + [IGNORE_INDEX] * (24 - n)
    assert item["attention_mask"].tolist() == [1] * n + [0] * (24 - n)
    long = ds[1]  # truncated: the first 24 tokens of the document (its EOS falls off)
    assert long["input_ids"].tolist() == bpe.encode(docs[1])[:24]
    assert torch.equal(long["labels"], long["input_ids"]) and long["attention_mask"].all()
    with pytest.raises(ValueError, match="document 1 has .* tokens .* more than packed_length=24"):
        CausalLmDataset([{"text": d} for d in docs], bpe, packed=False, packed_length=24, truncation=False)
    streamed = CausalLmDataset(iter([{"text": d} for d in docs]), bpe, packed=False, packed_length=24)
    assert [x["input_ids"].tolist() for x in streamed] == [ds[0]["input_ids"].tolist(), ds[1]["input_ids"].tolist()]


def test_bos_before_each_document(ascii_tokenizer):
    ds = CausalLmDataset([{"text": "hi"}, {"text": "yo"}], ascii_tokenizer, packed_length=4, add_bos=True)
    bos, eos = ascii_tokenizer.bos_token_id, ascii_tokenizer.eos_token_id
    assert [x["input_ids"].tolist() for x in ds] == [
        [bos] + ascii_tokenizer.encode("hi") + [eos],
        [bos] + ascii_tokenizer.encode("yo") + [eos],
    ]


def test_unpacked_pads_with_eos_when_the_tokenizer_has_no_pad_token(documents):
    tok = BpeTokenizer.train(documents, vocab_size=280, special_tokens={"eos": "</s>"})
    assert tok.pad_token_id is None and tok.bos_token_id is None
    item = CausalLmDataset([{"text": "the cat"}], tok, packed=False, packed_length=8)[0]
    n = len(tok.encode("the cat")) + 1
    assert item["input_ids"].tolist() == tok.encode("the cat") + [tok.eos_token_id] * (8 - n + 1)
    assert item["labels"].tolist()[n:] == [IGNORE_INDEX] * (8 - n)
    with pytest.raises(ValueError, match="no BOS token"):
        CausalLmDataset([{"text": "the cat"}], tok, add_bos=True)


def test_bad_input_errors(bpe):
    with pytest.raises(KeyError, match=r"record 1 has no field 'text'; its fields: \['body'\]"):
        CausalLmDataset([{"text": "a"}, {"body": "b"}], bpe)
    with pytest.raises(KeyError, match="columns: \\['body'\\]"):
        CausalLmDataset(datasets.Dataset.from_dict({"body": ["x"]}), bpe)
    with pytest.raises(ValueError, match="no documents"):
        CausalLmDataset([], bpe)
    with pytest.raises(ValueError, match="fewer than one window of packed_length=1024"):
        CausalLmDataset([{"text": "a short one"}], bpe)
    with pytest.raises(TypeError, match="not a dict"):
        CausalLmDataset(["just a string"], bpe)
