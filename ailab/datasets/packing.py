"""Tokenize a stream of documents into one flat, memory-mappable token file plus a JSON sidecar.

Layout (the nanoGPT `train.bin` convention): token ids back to back, each document followed by EOS (and preceded by
BOS when asked), as little-endian uint16 when the vocabulary fits (<= 65,535 ids, half the disk and page cache of
uint32) or uint32 otherwise. The sidecar `<file>.json` records what is needed to use the file safely: dtype, size,
the tokenizer's fingerprint (so a mismatched tokenizer or model is caught), the UTF-8 byte count of the text (the
denominator of bits per byte), and the document framing (`add_bos`, `bos_token_id`, `eos_token_id`: see
`ailab.framing`), which the trainer carries into the model directory.

Speed and memory: documents are read in chunks of `chunk_size`, each chunk is tokenized with the tokenizer's batch
encoder in one of `num_proc` worker processes, and finished chunks are appended to a temporary file in order, with at
most 2 x `num_proc` chunks in flight: memory is bounded by the chunk size, not the corpus. The file only appears
(renamed into place) once complete.
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from ailab.framing import DocumentFraming
from ailab.io import atomic_write_json, make_temporary_file

FORMAT_VERSION = 1
MAX_UINT16_VOCAB = 65535


def token_dtype(vocab_size: int) -> np.dtype:
    """uint16 when every id fits (vocab_size <= 65,535), else uint32."""
    return np.dtype(np.uint16 if vocab_size <= MAX_UINT16_VOCAB else np.uint32)


def sidecar_path(path: str | os.PathLike) -> Path:
    """Where the JSON metadata of packed token file `path` lives: the same name with a .json suffix."""
    return Path(path).with_suffix(".json")


class DocumentLengths:
    """Exact distribution of document lengths kept as a count per length: memory grows with the longest document,
    not with the number of documents."""

    def __init__(self) -> None:
        self.counts = np.zeros(0, dtype=np.int64)

    def add(self, lengths: np.ndarray) -> None:
        if len(lengths) == 0:
            return
        counts = np.bincount(lengths)
        if len(counts) > len(self.counts):
            counts[: len(self.counts)] += self.counts
            self.counts = counts
        else:
            self.counts[: len(counts)] += counts

    @property
    def num_documents(self) -> int:
        return int(self.counts.sum())

    def percentile(self, q: float) -> int:
        """Nearest-rank percentile: the smallest length L with at least q% of documents no longer than L."""
        cumulative = np.cumsum(self.counts)
        rank = max(1, int(np.ceil(q / 100 * cumulative[-1])))
        return int(np.searchsorted(cumulative, rank))

    def summary(self) -> dict[str, float | int]:
        """min / mean / p10 / p50 / p90 / p99 / max in tokens (text tokens only: BOS/EOS not counted)."""
        if self.num_documents == 0:
            return {}
        lengths = np.arange(len(self.counts))
        nonzero = np.flatnonzero(self.counts)
        return {
            "min": int(nonzero[0]),
            "mean": float((lengths * self.counts).sum() / self.num_documents),
            **{f"p{q}": self.percentile(q) for q in (10, 50, 90, 99)},
            "max": int(nonzero[-1]),
        }


# ---- worker side -------------------------------------------------------------------------------------------------
_worker_tokenizer = None


def _init_worker(payload: tuple[str, Any]) -> None:
    """Give this worker process its own copy of the tokenizer."""
    global _worker_tokenizer
    os.environ["TOKENIZERS_PARALLELISM"] = "false"  # parallelism comes from the processes; no threads on top
    _worker_tokenizer = restore_tokenizer(payload)


def _encode_in_worker(
    texts: list[str], framing: DocumentFraming, dtype: str
) -> tuple[np.ndarray, np.ndarray, int, int]:
    return encode_chunk(_worker_tokenizer, texts, framing, np.dtype(dtype))


def encode_chunk(
    tokenizer, texts: list[str], framing: DocumentFraming, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Tokens of `texts` framed and packed as [BOS] doc EOS [BOS] doc EOS ..., their text lengths in tokens, UTF-8
    bytes, chars."""
    batch = tokenizer.encode_batch(texts)
    flat: list[int] = []
    for ids in batch:
        flat.extend(framing.frame(ids))
    tokens = np.array(flat, dtype=np.int64)
    if len(tokens) and (tokens.min() < 0 or tokens.max() >= tokenizer.vocab_size):
        bad = int(tokens.max() if tokens.max() >= tokenizer.vocab_size else tokens.min())
        raise ValueError(f"{tokenizer!r} produced token id {bad}, outside 0..{tokenizer.vocab_size - 1}")
    lengths = np.fromiter((len(ids) for ids in batch), dtype=np.int64, count=len(batch))
    num_bytes = sum(len(t.encode("utf-8")) for t in texts)
    num_chars = sum(len(t) for t in texts)
    return tokens.astype(dtype), lengths, num_bytes, num_chars


# ---- driver side -------------------------------------------------------------------------------------------------
def _chunks(texts: Iterable[str], chunk_size: int) -> Iterator[list[str]]:
    it = iter(texts)
    start = 0
    while chunk := list(islice(it, chunk_size)):
        for i, t in enumerate(chunk):
            if not isinstance(t, str):
                raise TypeError(f"document {start + i} is {type(t).__name__}, not str: pass an iterable of strings")
        start += len(chunk)
        yield chunk


def portable_tokenizer(tokenizer, scratch_dir: Path) -> tuple[str, Any]:
    """The tokenizer in a form other processes can rebuild: an ailab tokenizer is saved to `scratch_dir` with its own
    `save` (the format `load_tokenizer` restores exactly, settings included), anything else is pickled."""
    if hasattr(tokenizer, "save") and hasattr(tokenizer, "kind"):
        directory = scratch_dir / "tokenizer"
        tokenizer.save(directory)
        return "dir", str(directory)
    return "pickle", pickle.dumps(tokenizer)


def restore_tokenizer(payload: tuple[str, Any]):
    """Rebuild the tokenizer `portable_tokenizer` packed."""
    how, value = payload
    if how == "pickle":
        return pickle.loads(value)
    from ailab.tokenizers import load_tokenizer

    return load_tokenizer(value)


@contextmanager
def _env(name: str, value: str) -> Iterator[None]:
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def _encoded_chunks(texts, tokenizer, framing, dtype, num_proc, chunk_size, start_method, scratch_dir):
    """Encoded chunks in corpus order: in this process when num_proc == 1, else from a pool of workers."""
    chunks = _chunks(texts, chunk_size)
    if num_proc == 1:
        for chunk in chunks:
            yield len(chunk), encode_chunk(tokenizer, chunk, framing, dtype)
        return
    import multiprocessing

    context = multiprocessing.get_context(start_method)
    payload = portable_tokenizer(tokenizer, scratch_dir)
    # Set before the workers start (fork or spawn): silences the Rust tokenizer's fork warning and keeps each
    # worker single-threaded, so num_proc processes use num_proc cores.
    with _env("TOKENIZERS_PARALLELISM", "false"), context.Pool(num_proc, _init_worker, (payload,)) as pool:
        in_flight: deque = deque()
        for chunk in chunks:
            in_flight.append((len(chunk), pool.apply_async(_encode_in_worker, (chunk, framing, dtype.str))))
            if len(in_flight) >= 2 * num_proc:
                n, result = in_flight.popleft()
                yield n, result.get()
        while in_flight:
            n, result = in_flight.popleft()
            yield n, result.get()


def pack_documents(
    texts: Iterable[str],
    tokenizer,
    out_path: str | os.PathLike,
    num_proc: int | None = None,
    add_bos: bool = False,
    chunk_size: int = 1000,
    progress: bool | None = None,
    start_method: str | None = None,
) -> dict[str, Any]:
    """Tokenize `texts` into the flat token file `out_path` and its sidecar `out_path.with_suffix(".json")`.

    Each document is followed by EOS, and preceded by BOS when `add_bos` (the tokenizer must have one). `num_proc`
    worker processes (default: all cores) tokenize chunks of `chunk_size` documents; `start_method` picks the
    multiprocessing start method ("fork", "spawn", "forkserver"; default: the platform's). `progress`: a tqdm bar;
    None shows it only on a terminal. Returns the sidecar dict.
    """
    out_path = Path(out_path)
    if out_path.suffix == ".json":
        raise ValueError(f"out_path {out_path} ends in .json, which is where its sidecar goes; use e.g. train.bin")
    framing = DocumentFraming.from_tokenizer(tokenizer, add_bos)
    num_proc = num_proc or os.cpu_count() or 1
    if num_proc < 1:
        raise ValueError(f"num_proc must be >= 1, got {num_proc}")
    dtype = token_dtype(tokenizer.vocab_size)
    total = len(texts) if hasattr(texts, "__len__") else None

    from tqdm.auto import tqdm

    out_path.parent.mkdir(parents=True, exist_ok=True)
    lengths = DocumentLengths()
    num_tokens = num_bytes = num_chars = 0
    fd, tmp_name = make_temporary_file(out_path)
    tmp = Path(tmp_name)
    try:
        with (
            os.fdopen(fd, "wb") as f,
            tempfile.TemporaryDirectory(dir=out_path.parent) as scratch,
            tqdm(
                total=total,
                unit="doc",
                desc=f"packing {out_path.name}",
                disable=None if progress is None else not progress,
            ) as bar,
            closing(
                _encoded_chunks(texts, tokenizer, framing, dtype, num_proc, chunk_size, start_method, Path(scratch))
            ) as encoded,
        ):
            for n, (tokens, doc_lengths, n_bytes, n_chars) in encoded:
                tokens.tofile(f)
                lengths.add(doc_lengths)
                num_tokens += len(tokens)
                num_bytes += n_bytes
                num_chars += n_chars
                bar.update(n)
            f.flush()
            os.fsync(f.fileno())
        if lengths.num_documents == 0:
            raise ValueError(f"no documents to pack into {out_path}: the corpus is empty (check the source and split)")
        meta = {
            "format_version": FORMAT_VERSION,
            "dtype": dtype.name,
            "vocab_size": tokenizer.vocab_size,
            "tokenizer_kind": tokenizer.kind,
            "tokenizer_fingerprint": tokenizer.fingerprint(),
            **framing.to_dict(),
            "num_tokens": num_tokens,
            "num_documents": lengths.num_documents,
            "num_bytes": num_bytes,
            "num_chars": num_chars,
            "document_length_tokens": lengths.summary(),
        }
        sidecar_path(out_path).unlink(missing_ok=True)  # never leave a new token file beside an old sidecar
        os.replace(tmp, out_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    atomic_write_json(sidecar_path(out_path), meta)
    return meta


class PackedTokens:
    """A packed token file opened read-only as a memmap, checked against its sidecar.

    Pickling keeps only the path (the memmap is reopened on unpickling), so DataLoader workers started with "spawn"
    do not copy the corpus.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        meta_path = sidecar_path(self.path)
        if not self.path.is_file():
            raise FileNotFoundError(f"packed token file {self.path} does not exist; run the prepare stage to create it")
        if not meta_path.is_file():
            raise FileNotFoundError(
                f"{self.path} has no sidecar {meta_path.name}: it was not written by pack_documents or was interrupted;"
                " re-run the prepare stage"
            )
        try:
            self.meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
            dtype = np.dtype(self.meta["dtype"])
            expected = int(self.meta["num_tokens"]) * dtype.itemsize
        except (ValueError, TypeError, KeyError) as err:
            raise ValueError(f"{meta_path} is damaged ({err!r}); re-run the prepare stage") from err
        actual = self.path.stat().st_size
        if actual != expected:
            raise ValueError(
                f"{self.path} holds {actual} bytes but its sidecar promises {self.meta['num_tokens']} {dtype.name} "
                f"tokens ({expected} bytes): the files do not belong together; re-run the prepare stage"
            )
        self.tokens: np.memmap = np.memmap(self.path, dtype=dtype, mode="r")

    def __len__(self) -> int:
        return len(self.tokens)

    def __repr__(self) -> str:
        return f"PackedTokens({str(self.path)!r}, num_tokens={len(self)}, vocab_size={self.vocab_size})"

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"])

    @property
    def vocab_size(self) -> int:
        return self.meta["vocab_size"]

    @property
    def framing(self) -> DocumentFraming:
        """How `pack_documents` laid the documents out in this file (BOS/EOS placement), read from the sidecar."""
        return DocumentFraming.from_dict(self.meta, source=str(sidecar_path(self.path)))

    @property
    def num_bytes(self) -> int:
        """UTF-8 bytes of the text these tokens encode: turns a loss in nats/token into bits per byte."""
        return self.meta["num_bytes"]

    def check_compatible(self, vocab_size: int | None = None, fingerprint: str | None = None) -> None:
        """Raise ValueError unless ids fit an embedding of `vocab_size` rows and the tokenizer `fingerprint` matches.

        A model's vocabulary may be larger than the tokenizer's (embeddings padded to a multiple of 64), never smaller.
        """
        if vocab_size is not None and vocab_size < self.vocab_size:
            raise ValueError(
                f"{self.path} was tokenized with a vocabulary of {self.vocab_size} ids but the model has only "
                f"{vocab_size}: its embedding cannot look up every token; "
                f"set the model's vocab_size >= {self.vocab_size}"
            )
        if fingerprint is not None and fingerprint != self.meta["tokenizer_fingerprint"]:
            raise ValueError(
                f"{self.path} was tokenized by a different tokenizer ({self.meta['tokenizer_kind']}, vocab "
                f"{self.vocab_size}, fingerprint {self.meta['tokenizer_fingerprint'][:12]}) than this one "
                f"(fingerprint {fingerprint[:12]}): re-run the prepare stage with this tokenizer"
            )

    def check_tokenizer(self, tokenizer) -> None:
        """Raise ValueError unless `tokenizer` is the one these tokens were made with (same fingerprint and size)."""
        if tokenizer.vocab_size != self.vocab_size:
            raise ValueError(
                f"{self.path} was tokenized with a vocabulary of {self.vocab_size} ids but {tokenizer!r} has "
                f"{tokenizer.vocab_size}: re-run the prepare stage with this tokenizer"
            )
        self.check_compatible(fingerprint=tokenizer.fingerprint())
