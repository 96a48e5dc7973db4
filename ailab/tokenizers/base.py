"""The `Tokenizer` interface every ailab tokenizer implements, and the `ailab_tokenizer.json` marker file.

A tokenizer maps text to token ids and back. Special tokens (BOS/EOS/PAD) are only ever produced by
`add_bos` / `add_eos`: a literal "<|endoftext|>" or "<s>" inside the text is ordinary text, so user data can
never inject control tokens and `decode(encode(s)) == s` holds for every string a tokenizer can represent.
"""

from __future__ import annotations

import hashlib
import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from ailab.framing import DocumentFraming
from ailab.io import atomic_write_json

MARKER_FILE = "ailab_tokenizer.json"
"""Written by `Tokenizer.save` next to the tokenizer's own files; `load_tokenizer` dispatches on its "kind"."""


class Tokenizer(ABC):
    """Text <-> token ids. Subclasses set `kind` and implement the abstract methods."""

    kind: ClassVar[str]
    """"bpe", "ascii" or "sentencepiece": how the tokenizer works, saved in the marker file (`tokenizer.kind` in
    params.yaml names these, and "tinystories-bpe-8k", a pre-trained "bpe")."""
    framing: DocumentFraming | None = None
    """How a model's training documents were framed with this tokenizer (`ailab.framing`); `load_tokenizer` reads it
    from a model directory, `save` writes it; None when unknown."""

    # ---- what a subclass provides -------------------------------------------------------------------------
    @property
    @abstractmethod
    def vocab_size(self) -> int:
        """Number of token ids, special tokens included: ids are 0 .. vocab_size - 1."""

    @property
    @abstractmethod
    def bos_token_id(self) -> int | None: ...

    @property
    @abstractmethod
    def eos_token_id(self) -> int | None: ...

    @property
    @abstractmethod
    def pad_token_id(self) -> int | None: ...

    @abstractmethod
    def _encode_plain(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text, without BOS/EOS; literal special-token strings are encoded as text."""

    @abstractmethod
    def _decode_plain(self, ids: list[int], skip_special_tokens: bool) -> str: ...

    @abstractmethod
    def id_to_token(self, token_id: int) -> str:
        """The vocabulary entry of `token_id` (e.g. "Ġthe", "<0x0A>", "<|endoftext|>")."""

    @abstractmethod
    def _save_files(self, directory: Path) -> dict[str, Any]:
        """Write the tokenizer's own files (atomically) into `directory`; return the settings for the marker file."""

    @classmethod
    @abstractmethod
    def from_directory(cls, directory: Path, settings: dict[str, Any]) -> Tokenizer:
        """Rebuild from the files `_save_files` wrote and the settings it returned (used by `load_tokenizer`)."""

    @abstractmethod
    def _canonical_bytes(self) -> bytes:
        """Bytes that determine the tokenizer completely (vocabulary, merges, settings): hashed by `fingerprint`."""

    # ---- shared behaviour -----------------------------------------------------------------------------------
    def is_byte_fallback(self, token_id: int) -> bool:
        """True for tokens that stand for raw bytes or an unknown character (SentencePiece `<0xNN>`, `<unk>`)."""
        self._check_id(token_id)
        return False

    def encode(self, text: str, add_bos: bool = False, add_eos: bool = False, return_tensors: str | None = None):
        """Token ids of `text` as a list, or a (1, T) LongTensor with `return_tensors="pt"`."""
        if not isinstance(text, str):
            raise TypeError(f"encode() takes one str, got {type(text).__name__}; use encode_batch() for many texts")
        if return_tensors not in (None, "pt"):
            raise ValueError(f"return_tensors must be None or 'pt', got {return_tensors!r}")
        ids = self.encode_batch([text], add_bos=add_bos, add_eos=add_eos)[0]
        if return_tensors == "pt":
            import torch

            return torch.tensor([ids], dtype=torch.long)
        return ids

    def encode_batch(self, texts: Iterable[str], add_bos: bool = False, add_eos: bool = False) -> list[list[int]]:
        """Token ids of many texts at once (the fast path used to pack corpora)."""
        if isinstance(texts, str):
            raise TypeError("encode_batch() takes a list of str, got a single str; use encode() for one text")
        texts = texts if isinstance(texts, list) else list(texts)
        batch = self._encode_plain(texts)
        prefix = [self._special_id("bos", self.bos_token_id)] if add_bos else []
        suffix = [self._special_id("eos", self.eos_token_id)] if add_eos else []
        if prefix or suffix:
            batch = [prefix + ids + suffix for ids in batch]
        return batch

    def decode(self, ids, skip_special_tokens: bool = True) -> str:
        """Text of `ids` (a list of ints or a 1-D tensor); special tokens dropped unless `skip_special_tokens=False`."""
        if hasattr(ids, "tolist"):
            if getattr(ids, "ndim", 1) != 1:
                raise ValueError(f"decode() takes a 1-D sequence of ids, got shape {tuple(ids.shape)}; decode each row")
            ids = ids.tolist()
        ids = [int(i) for i in ids]
        if ids and (min(ids) < 0 or max(ids) >= self.vocab_size):
            self._check_id(min(ids) if min(ids) < 0 else max(ids))
        return self._decode_plain(ids, skip_special_tokens)

    def save(self, directory: str | os.PathLike) -> None:
        """Write the tokenizer into `directory` (created if needed) beside whatever else is there, e.g. a model."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        settings = self._save_files(directory)
        atomic_write_json(directory / MARKER_FILE, {"kind": self.kind, "class": type(self).__name__, **settings})
        if self.framing is not None:
            self.framing.save(directory)

    def fingerprint(self) -> str:
        """sha256 hex of the kind and the canonical vocabulary/model: equal iff the tokenizers encode alike."""
        return hashlib.sha256(self.kind.encode() + b"\0" + self._canonical_bytes()).hexdigest()

    def to_hf_tokenizer(self):
        """A `transformers.PreTrainedTokenizerFast` that gives the same ids, for exporting models to the HF format."""
        raise NotImplementedError(f"{type(self).__name__} has no transformers equivalent")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(vocab_size={self.vocab_size})"

    def _check_id(self, token_id: int) -> None:
        if not 0 <= token_id < self.vocab_size:
            raise ValueError(f"token id {token_id} is out of range for {self!r}: ids are 0..{self.vocab_size - 1}")

    def _special_id(self, role: str, token_id: int | None) -> int:
        if token_id is None:
            raise ValueError(f"{self!r} has no {role.upper()} token, so add_{role}=True is impossible")
        return token_id
