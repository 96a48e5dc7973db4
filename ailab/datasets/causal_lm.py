"""`CausalLmDataset`: records with a text field -> PyTorch examples of `{"input_ids", "labels"}` for causal LM training.

Packed (the default, as in GPT-2/nanoGPT pre-training): every document is tokenized and followed by EOS (preceded by
BOS when `add_bos`), all of them are concatenated into one stream, and example i is the window
`stream[i * packing_stride : i * packing_stride + packed_length]`; the tail shorter than a window is dropped.
`packing_stride` (default `packed_length`: no overlap) may be smaller than `packed_length` (overlapping windows), never
larger: that would skip the tokens between windows, so it is refused.
Unpacked (fine-tuning on whole documents): example i is document i + EOS, cut to its first `packed_length` tokens
when longer (`truncation=True`; `truncation=False` raises instead) and right-padded with the pad token (EOS when the
tokenizer has no pad token), with `labels` -100 and `attention_mask` 0 on the padding.

`labels` equal `input_ids` on real tokens: the model shifts them inside, as in transformers.

Map-style sources (an HF `Dataset`, a list of dicts) give a map-style dataset, tokenized once up front with
`Dataset.map(batched=True, num_proc=num_proc)`. Iterable sources (an HF `IterableDataset`, a generator) give a
`StreamingCausalLmDataset`, a torch `IterableDataset` that tokenizes and packs on the fly and never holds the corpus:
memory is one batch of documents plus one window. For pre-training on a large corpus prefer `pack_documents` +
`PackedWindowDataset`, which tokenize once, in parallel, to a memmap.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, IterableDataset, get_worker_info

from ailab.datasets.packing import portable_tokenizer, restore_tokenizer
from ailab.datasets.windows import check_window, num_windows, window_example

IGNORE_INDEX = -100
"""Label of padding positions: ignored by the model's cross-entropy (the PyTorch / transformers convention)."""
STREAM_BATCH = 256
"""Documents tokenized per `encode_batch` call when streaming: big enough for the Rust batch encoder, small enough
that the first window arrives at once."""


def _is_streaming(raw_dataset: Any) -> bool:
    """HF `IterableDataset`s and any iterable that is not a sequence (a generator, a reader) are streamed."""
    import datasets

    if isinstance(raw_dataset, (datasets.IterableDataset, datasets.Dataset)):
        return isinstance(raw_dataset, datasets.IterableDataset)
    return not isinstance(raw_dataset, Sequence)


def _document_ids(tokenizer, texts: list[str], add_bos: bool) -> list[list[int]]:
    """Token ids of each text followed by EOS (and preceded by BOS when asked)."""
    return tokenizer.encode_batch(texts, add_bos=add_bos, add_eos=True)


class _EncodeDocuments:
    """The batched `Dataset.map` function; worker processes rebuild the tokenizer from `payload` (see
    `portable_tokenizer`), the same way `pack_documents` workers do."""

    def __init__(self, payload: tuple[str, Any], text_field: str, add_bos: bool):
        self.payload, self.text_field, self.add_bos = payload, text_field, add_bos
        self._tokenizer = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_tokenizer": None}

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        if self._tokenizer is None:
            how, value = self.payload
            self._tokenizer = value if how == "object" else restore_tokenizer(self.payload)
        return {"input_ids": _document_ids(self._tokenizer, batch[self.text_field], self.add_bos)}


def _record_text(record: Any, text_field: str, index: int) -> str:
    if not isinstance(record, Mapping):
        raise TypeError(f"record {index} is {type(record).__name__}, not a dict with a {text_field!r} field")
    if text_field not in record:
        raise KeyError(f"record {index} has no field {text_field!r}; its fields: {sorted(record)}. Set text_field.")
    text = record[text_field]
    if not isinstance(text, str):
        raise TypeError(f"record {index} field {text_field!r} is {type(text).__name__}, not str")
    return text


def _check_tokenizer(tokenizer, add_bos: bool) -> None:
    if tokenizer.eos_token_id is None:
        raise ValueError(f"{tokenizer!r} has no EOS token: causal LM examples need one to end each document")
    if add_bos and tokenizer.bos_token_id is None:
        raise ValueError(f"add_bos=True but {tokenizer!r} has no BOS token; set add_bos=False")


def _check_packing_stride(packed_length: int, packing_stride: int | None) -> int:
    """The stride between packed windows: at most `packed_length`, so that no token falls between two windows."""
    stride = check_window(packed_length, packing_stride)
    if stride > packed_length:
        raise ValueError(
            f"packing_stride={stride} is larger than packed_length={packed_length}: the {stride - packed_length} "
            "tokens between consecutive windows would never be seen; use packing_stride <= packed_length "
            "(None: packed_length, windows side by side)"
        )
    return stride


def _document_too_long(index: int, num_tokens: int, length: int) -> ValueError:
    return ValueError(
        f"document {index} has {num_tokens} tokens (EOS included), more than packed_length={length}; "
        "raise packed_length, use packed=True, or pass truncation=True to keep its first tokens"
    )


def unpacked_example(
    ids: np.ndarray, length: int, pad_token_id: int, truncation: bool, index: int
) -> dict[str, torch.Tensor]:
    """One document as a fixed-length example: cut to `length` or right-padded (labels -100, attention_mask 0)."""
    n = len(ids)
    if n > length:
        if not truncation:
            raise _document_too_long(index, n, length)
        ids, n = ids[:length], length
    input_ids = torch.full((length,), pad_token_id, dtype=torch.long)
    input_ids[:n] = torch.from_numpy(np.asarray(ids, dtype=np.int64))
    labels = torch.full((length,), IGNORE_INDEX, dtype=torch.long)
    labels[:n] = input_ids[:n]
    attention_mask = torch.zeros(length, dtype=torch.long)
    attention_mask[:n] = 1
    return {"input_ids": input_ids, "labels": labels, "attention_mask": attention_mask}


class CausalLmDataset(Dataset):
    """Causal LM examples from records with a text field; see the module docstring for packed vs unpacked.

    An iterable source (HF `IterableDataset`, generator) makes this return a `StreamingCausalLmDataset` instead.
    `num_proc`: processes for `Dataset.map` (None: tokenize in this process; the batch encoder is already fast).
    """

    def __new__(cls, raw_dataset: Any = None, *args: Any, **kwargs: Any):
        if cls is CausalLmDataset and _is_streaming(raw_dataset):
            return StreamingCausalLmDataset(raw_dataset, *args, **kwargs)
        return super().__new__(cls)

    def __init__(
        self,
        raw_dataset: Any,
        tokenizer,
        packed: bool = True,
        packed_length: int = 1024,
        packing_stride: int | None = None,
        num_proc: int | None = None,
        text_field: str = "text",
        add_bos: bool = False,
        truncation: bool = True,
    ):
        _check_tokenizer(tokenizer, add_bos)
        self.packed = packed
        self.packed_length = packed_length
        self.packing_stride = _check_packing_stride(packed_length, packing_stride)
        self.truncation = truncation
        self.pad_token_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self.tokens, self.offsets = self._tokenize(raw_dataset, tokenizer, num_proc, text_field, add_bos)
        if packed:
            self._len = num_windows(len(self.tokens), packed_length, self.packing_stride)
            if self._len == 0:
                raise ValueError(
                    f"the corpus packs into {len(self.tokens)} tokens, fewer than one window of "
                    f"packed_length={packed_length}: lower packed_length or add documents"
                )
        else:
            self._len = len(self.offsets) - 1
            if not truncation:
                lengths = np.diff(self.offsets)
                if (too_long := np.flatnonzero(lengths > packed_length)).size:
                    i = int(too_long[0])
                    raise _document_too_long(i, int(lengths[i]), packed_length)

    @staticmethod
    def _tokenize(raw_dataset, tokenizer, num_proc, text_field, add_bos) -> tuple[np.ndarray, np.ndarray]:
        """All documents' ids concatenated, and the offset where each starts (plus the total at the end)."""
        import datasets

        if isinstance(raw_dataset, datasets.Dataset):
            if text_field not in raw_dataset.column_names:
                raise KeyError(
                    f"the dataset has no column {text_field!r}; its columns: {raw_dataset.column_names}. "
                    "Set text_field."
                )
            ds = raw_dataset
        else:
            texts = [_record_text(record, text_field, i) for i, record in enumerate(raw_dataset)]
            ds = datasets.Dataset.from_dict({text_field: texts})
        if len(ds) == 0:
            raise ValueError("the dataset holds no documents: nothing to train on")
        with tempfile.TemporaryDirectory() as scratch:
            in_process = not num_proc or num_proc == 1
            payload = ("object", tokenizer) if in_process else portable_tokenizer(tokenizer, Path(scratch))
            encoded = ds.select_columns([text_field]).map(
                _EncodeDocuments(payload, text_field, add_bos),
                batched=True,
                num_proc=num_proc,
                remove_columns=[text_field],
                desc="tokenizing",
            )
        column = encoded.with_format("arrow")[:].column("input_ids")
        tokens = np.concatenate([chunk.flatten().to_numpy() for chunk in column.chunks]).astype(np.int64)
        lengths = np.concatenate([chunk.value_lengths().to_numpy() for chunk in column.chunks])
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        return tokens, offsets

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if self.packed:
            return window_example(self.tokens, index, self._len, self.packed_length, self.packing_stride)
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError(f"example {index} out of range: this dataset has {self._len} examples")
        ids = self.tokens[self.offsets[index] : self.offsets[index + 1]]
        return unpacked_example(ids, self.packed_length, self.pad_token_id, self.truncation, index)


class StreamingCausalLmDataset(IterableDataset):
    """`CausalLmDataset` over an iterable of records: tokenizes and packs as it iterates, holding one batch at a time.

    In one process, window i starts at token i x stride of the packed stream. With several DataLoader workers:
    an HF `IterableDataset` gives each worker its own shards of documents (HF's behaviour; use at least as many
    shards as workers), and each worker packs its documents into windows; any other iterable is read whole by
    every worker, which yields every num_workers-th window, so the windows are exactly those of one process.
    """

    def __init__(
        self,
        raw_dataset: Iterable[Mapping[str, Any]],
        tokenizer,
        packed: bool = True,
        packed_length: int = 1024,
        packing_stride: int | None = None,
        num_proc: int | None = None,
        text_field: str = "text",
        add_bos: bool = False,
        truncation: bool = True,
    ):
        _check_tokenizer(tokenizer, add_bos)
        self.raw_dataset = raw_dataset
        self.tokenizer = tokenizer
        self.packed = packed
        self.packed_length = packed_length
        self.packing_stride = _check_packing_stride(packed_length, packing_stride)
        self.text_field = text_field
        self.add_bos = add_bos
        self.truncation = truncation
        self.pad_token_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id

    def _document_batches(self) -> Iterator[list[list[int]]]:
        records = enumerate(self.raw_dataset)
        while batch := list(islice(records, STREAM_BATCH)):
            texts = [_record_text(record, self.text_field, i) for i, record in batch]
            yield _document_ids(self.tokenizer, texts, self.add_bos)

    def _examples(self) -> Iterator[dict[str, torch.Tensor]]:
        if not self.packed:
            index = 0
            for batch in self._document_batches():
                for ids in batch:
                    yield unpacked_example(np.array(ids), self.packed_length, self.pad_token_id, self.truncation, index)
                    index += 1
            return
        length, stride = self.packed_length, self.packing_stride
        buffer = np.zeros(0, dtype=np.int64)
        buffer_start = 0  # position of buffer[0] in the packed stream
        window_start = 0  # position of the next window in the packed stream
        for batch in self._document_batches():
            buffer = np.concatenate([buffer, np.fromiter((t for ids in batch for t in ids), dtype=np.int64)])
            while window_start + length <= buffer_start + len(buffer):
                offset = window_start - buffer_start
                x = torch.from_numpy(buffer[offset : offset + length].copy())
                yield {"input_ids": x, "labels": x.clone()}
                window_start += stride
            drop = min(window_start - buffer_start, len(buffer))
            buffer, buffer_start = buffer[drop:], buffer_start + drop

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        worker = get_worker_info()
        examples = self._examples()
        if worker is not None and worker.num_workers > 1 and not _is_hf_iterable(self.raw_dataset):
            examples = islice(examples, worker.id, None, worker.num_workers)
        return examples


def _is_hf_iterable(raw_dataset: Any) -> bool:
    """HF `IterableDataset`s shard themselves across DataLoader workers (by file shard) when iterated inside one."""
    import datasets

    return isinstance(raw_dataset, datasets.IterableDataset)
