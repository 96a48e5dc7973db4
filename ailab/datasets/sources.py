"""Where documents come from: the built-in corpus, a Hugging Face dataset, or local .txt/.jsonl/.parquet files.

`load_corpus(spec)` returns `{"train": docs, "validation": docs}`, each a re-iterable stream of document strings,
so a corpus far larger than memory can be tokenized and packed without being held (see `packing.py`).

Validation split, in order of preference: an explicit split/path (`validation_split`); otherwise a seeded hold-out
of `validation_fraction` of the documents. The built-in corpus (a list in memory) holds out an exact seeded random
sample. Everything else may be larger than memory and is read as a stream, so a document goes to validation when a
seeded 64-bit hash of its text falls below `validation_fraction` (about that share, exactly reproducible, no
shuffle buffer). Both rules put identical texts in the same split, so no document is ever in both.
"""

from __future__ import annotations

import glob as globlib
import hashlib
import os
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

LOCAL_SUFFIXES = (".txt", ".jsonl", ".parquet")
"""File types `source="local"` reads; a directory is searched (recursively) for these."""


@dataclass
class CorpusSpec:
    """Which documents to train on and how to split them (the `data` section of params.yaml)."""

    source: Literal["builtin", "hf", "local"] = "builtin"
    """"builtin": generated stories; "hf": a Hugging Face dataset; "local": .txt/.jsonl/.parquet files."""
    name: str | None = None
    """hf only: a hub id ("roneneldan/TinyStories") or a local directory in the hub's layout (data/train-*.parquet)."""
    path: str | None = None
    """local only: one file, a glob ("data/*.jsonl") or a directory holding .txt/.jsonl/.parquet files."""
    split: str = "train"
    """hf only: the split the training documents come from."""
    validation_split: str | None = None
    """hf: the split name of the validation documents; local: their file, glob or directory.
    None: hold out `validation_fraction` of the training documents instead."""
    text_field: str = "text"
    """Field that holds the document text (hf, .jsonl and .parquet)."""
    streaming: bool = False
    """hf and local .jsonl/.parquet: stream records instead of building an Arrow cache (.txt always streams)."""
    max_documents: int | None = None
    """Use at most this many documents of each split (before any hold-out); None = all."""
    separator: str = "<|endoftext|>"
    """.txt only: a line holding this string (surrounding whitespace ignored) ends a document, as in TinyStories;
    "" makes every blank line a document boundary."""
    validation_fraction: float = 0.05
    """Share of documents held out for validation when `validation_split` is None."""
    num_stories: int = 6000
    """builtin only: how many stories to generate."""
    seed: int = 0
    """Seed of the built-in generator and of the validation hold-out."""

    def __post_init__(self) -> None:
        if self.source not in ("builtin", "hf", "local"):
            raise ValueError(f"CorpusSpec.source must be 'builtin', 'hf' or 'local', got {self.source!r}")
        if self.source == "hf" and not self.name:
            raise ValueError("CorpusSpec(source='hf') needs name: a hub id or a local dataset directory")
        if self.source == "local" and not self.path:
            raise ValueError("CorpusSpec(source='local') needs path: a file, a glob or a directory")
        if not 0.0 < self.validation_fraction < 1.0 and self.validation_split is None:
            raise ValueError(
                f"validation_fraction must be in (0, 1), got {self.validation_fraction}; "
                "or give validation_split to use a separate validation set"
            )
        if self.max_documents is not None and self.max_documents < 1:
            raise ValueError(f"max_documents must be >= 1 or None, got {self.max_documents}")


class DocumentStream:
    """Documents produced afresh by `factory()` on every iteration: re-iterable, holds nothing itself.

    Iterating a stream that yields no document at all raises `ValueError`: an empty corpus is always a mistake.
    """

    def __init__(self, factory: Callable[[], Iterable[str]], description: str):
        self._factory = factory
        self.description = description

    def __iter__(self) -> Iterator[str]:
        empty = True
        for doc in self._factory():
            empty = False
            yield doc
        if empty:
            raise empty_corpus_error(self.description)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.description})"


class SizedDocumentStream(DocumentStream):
    """A `DocumentStream` whose length is known up front (progress bars show totals)."""

    def __init__(self, factory: Callable[[], Iterable[str]], description: str, length: int):
        super().__init__(factory, description)
        self._length = length

    def __len__(self) -> int:
        return self._length


def empty_corpus_error(what: str) -> ValueError:
    """The error for a corpus (or one split of it) that holds no document."""
    return ValueError(
        f"no documents in {what}: the corpus is empty; point the data section of params at files that hold text "
        "(.txt: documents end at a line holding the separator; .jsonl/.parquet: records with the text_field)"
    )


def load_corpus(spec: CorpusSpec) -> dict[str, DocumentStream]:
    """Training and validation documents of `spec` as `{"train": ..., "validation": ...}` streams of str."""
    if spec.source == "builtin":
        return _load_builtin(spec)
    if spec.source == "hf":
        return _load_hf(spec)
    return _load_local(spec)


# ---- hold-out rules ----------------------------------------------------------------------------------------------
def is_held_out(text: str, fraction: float, seed: int) -> bool:
    """The streaming hold-out rule: a seeded 64-bit hash of the text, below `fraction` of its range."""
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8, key=str(seed).encode()).digest()
    return int.from_bytes(digest, "little") < fraction * 2**64


def _held_out_indices(texts: list[str], fraction: float, seed: int) -> set[int]:
    """Indices of an exact seeded random sample of round(fraction * n) documents, duplicates of which join it."""
    n = len(texts)
    if n < 2:
        raise ValueError(
            f"cannot hold out a validation split from {n} document(s): give at least 2 or a validation_split"
        )
    num_validation = min(n - 1, max(1, round(fraction * n)))
    chosen = random.Random(seed).sample(range(n), num_validation)
    held_texts = {texts[i] for i in chosen}
    return {i for i, t in enumerate(texts) if t in held_texts}


def _split_list(texts: list[str], spec: CorpusSpec, what: str) -> dict[str, DocumentStream]:
    held = _held_out_indices(texts, spec.validation_fraction, spec.seed)
    train = [t for i, t in enumerate(texts) if i not in held]
    validation = [t for i, t in enumerate(texts) if i in held]
    return {
        "train": SizedDocumentStream(lambda: train, f"{what}, train", len(train)),
        "validation": SizedDocumentStream(lambda: validation, f"{what}, validation", len(validation)),
    }


def _split_stream(stream: DocumentStream, spec: CorpusSpec) -> dict[str, DocumentStream]:
    fraction, seed = spec.validation_fraction, spec.seed

    def train() -> Iterator[str]:
        return (t for t in stream if not is_held_out(t, fraction, seed))

    def validation() -> Iterator[str]:
        return (t for t in stream if is_held_out(t, fraction, seed))

    return {
        "train": DocumentStream(train, f"{stream.description}, hash hold-out train"),
        "validation": DocumentStream(validation, f"{stream.description}, hash hold-out validation"),
    }


def _capped(docs: Iterable[str], max_documents: int | None) -> Iterator[str]:
    for i, doc in enumerate(docs):
        if max_documents is not None and i >= max_documents:
            return
        yield doc


# ---- builtin -----------------------------------------------------------------------------------------------------
def _load_builtin(spec: CorpusSpec) -> dict[str, DocumentStream]:
    from ailab.datasets.builtin_corpus import generate_builtin_corpus

    stories = list(_capped(generate_builtin_corpus(spec.num_stories, spec.seed), spec.max_documents))
    if not stories:
        raise ValueError(f"the built-in corpus is empty (num_stories={spec.num_stories}); ask for at least 2 stories")
    return _split_list(stories, spec, f"builtin corpus of {len(stories)} stories")


# ---- Hugging Face datasets ---------------------------------------------------------------------------------------
def _load_hf(spec: CorpusSpec) -> dict[str, DocumentStream]:
    import datasets

    def load(split: str):
        try:
            ds = datasets.load_dataset(spec.name, split=split, streaming=spec.streaming)
        except ValueError as e:
            if "split" in str(e).lower():
                raise ValueError(f"dataset {spec.name!r} has no split {split!r}: {e}") from e
            raise
        where = f"dataset {spec.name!r} split {split!r}"
        _check_text_field(_column_names(ds) or _first_record_fields(ds), spec.text_field, where)
        if spec.max_documents is not None:
            ds = ds.take(spec.max_documents) if spec.streaming else ds.select(range(min(spec.max_documents, len(ds))))
        return ds

    train = load(spec.split)
    if spec.validation_split is not None:
        return {
            "train": _records_stream(train, spec, spec.split),
            "validation": _records_stream(load(spec.validation_split), spec, spec.validation_split),
        }
    return _split_stream(_records_stream(train, spec, spec.split), spec)


def _column_names(ds: Any) -> list[str] | None:
    names = getattr(ds, "column_names", None)
    if names is None and getattr(ds, "features", None) is not None:
        names = list(ds.features)
    return names


def _check_text_field(columns: list[str] | None, text_field: str, where: str) -> None:
    if columns is not None and text_field not in columns:
        raise ValueError(f"{where} has no field {text_field!r}; available fields: {sorted(columns)}. Set text_field.")


def _records_stream(ds: Any, spec: CorpusSpec, what: str) -> DocumentStream:
    """Text of each record of a datasets `Dataset` or `IterableDataset`, read in batches of one column."""
    field = spec.text_field
    where = f"{spec.name or spec.path} ({what})"

    def texts() -> Iterator[str]:
        for batch in ds.select_columns([field]).iter(batch_size=1000):
            for text in batch[field]:
                if not isinstance(text, str):
                    raise TypeError(
                        f"{where}: field {field!r} holds {type(text).__name__}, not str; set text_field to a text field"
                    )
                yield text

    if hasattr(ds, "__len__"):
        return SizedDocumentStream(texts, where, len(ds))
    return DocumentStream(texts, where)


# ---- local files -------------------------------------------------------------------------------------------------
def _load_local(spec: CorpusSpec) -> dict[str, DocumentStream]:
    train = _local_stream(spec.path, spec)
    if spec.validation_split is not None:
        return {"train": train, "validation": _local_stream(spec.validation_split, spec)}
    return _split_stream(train, spec)


def resolve_files(path: str) -> list[Path]:
    """The files named by `path`: a file, a glob, or a directory searched recursively for .txt/.jsonl/.parquet."""
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix in LOCAL_SUFFIXES)
        if not files:
            raise FileNotFoundError(f"directory {path!r} holds no {'/'.join(LOCAL_SUFFIXES)} files")
    elif p.is_file():
        files = [p]
    elif globlib.has_magic(path):
        files = sorted(Path(f) for f in globlib.glob(path, recursive=True) if Path(f).is_file())
        if not files:
            raise FileNotFoundError(f"glob {path!r} matches no files")
    else:
        raise FileNotFoundError(f"corpus file {path!r} does not exist (looked from {os.getcwd()})")
    suffixes = {f.suffix for f in files}
    if len(suffixes) > 1 or not suffixes <= set(LOCAL_SUFFIXES):
        raise ValueError(
            f"{path!r} gives files of types {sorted(suffixes)}; use one of {LOCAL_SUFFIXES} per path "
            f"(files: {[str(f) for f in files[:5]]}{' ...' if len(files) > 5 else ''})"
        )
    return files


def _local_stream(path: str, spec: CorpusSpec) -> DocumentStream:
    files = resolve_files(path)
    suffix = files[0].suffix
    what = f"{path} ({len(files)} {suffix} file{'s' if len(files) > 1 else ''})"
    if suffix == ".txt":
        return DocumentStream(lambda: _capped(read_separated_text(files, spec.separator), spec.max_documents), what)
    if suffix == ".jsonl":
        for f in files:
            check_utf8(f)
    if all(f.stat().st_size == 0 for f in files):
        raise empty_corpus_error(what)
    import datasets

    builder = "json" if suffix == ".jsonl" else "parquet"
    try:
        ds = datasets.load_dataset(builder, data_files=[str(f) for f in files], split="train", streaming=spec.streaming)
    except datasets.exceptions.DatasetGenerationError as err:
        cause = err.__cause__ or err
        fix = "one JSON object per line" if suffix == ".jsonl" else "a Parquet file"
        raise ValueError(f"cannot read {what}: {cause}; make each file {fix}") from err
    _check_text_field(_column_names(ds) or _first_record_fields(ds), spec.text_field, what)
    if spec.max_documents is not None:
        ds = ds.take(spec.max_documents) if spec.streaming else ds.select(range(min(spec.max_documents, len(ds))))
    return _records_stream(ds, spec, what)


def _first_record_fields(ds: Any) -> list[str] | None:
    for record in ds:
        return list(record)
    raise empty_corpus_error(f"corpus {ds}")


def _not_utf8(error: UnicodeDecodeError, file: Path, where: str) -> UnicodeDecodeError:
    """The same decoding error, its message naming the file, where in it, and the fix."""
    message = (
        f"{error.reason} in {file} {where}: the corpus must be UTF-8 (re-encode it, e.g. `iconv -f latin1 -t utf-8`)"
    )
    return UnicodeDecodeError(error.encoding, error.object, error.start, error.end, message)


def read_separated_text(files: Iterable[Path], separator: str) -> Iterator[str]:
    """Documents of .txt files where a line holding only `separator` (and whitespace) ends each document; streamed.

    Documents are stripped of surrounding whitespace and empty ones skipped; a file's last document needs no
    separator. Bytes that are not UTF-8 raise `UnicodeDecodeError` naming the file and byte offset.
    """
    sep = separator.encode("utf-8")
    for file in files:
        lines: list[str] = []
        offset = 0
        with open(file, "rb") as f:
            for raw in f:
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise _not_utf8(e, file, f"at byte offset {offset + e.start}") from None
                offset += len(raw)
                if raw.strip() == sep:
                    doc = "".join(lines).strip()
                    lines = []
                    if doc:
                        yield doc
                else:
                    lines.append(line.replace("\r\n", "\n"))
        doc = "".join(lines).strip()
        if doc:
            yield doc


def check_utf8(file: Path, block_size: int = 1 << 20) -> None:
    """Raise `UnicodeDecodeError` naming `file` and the byte offset of its first byte that is not UTF-8."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with open(file, "rb") as f:
        while block := f.read(block_size):
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(block)
            except UnicodeDecodeError as e:
                raise _not_utf8(e, file, f"at byte offset {offset - pending + e.start}") from None
            offset += len(block)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as e:
            raise _not_utf8(e, file, "at its end, inside a UTF-8 character") from None
