"""`FastTokenizer`: an ailab `Tokenizer` backed by a Hugging Face `tokenizers.Tokenizer` (Rust).

Both `BpeTokenizer` and `StrippedAsciiTokenizer` are one of these: the Rust object does all the work
(batch encoding runs in parallel in Rust), and it is saved as a standard `tokenizer.json`.

`tokenizers` on its own turns a literal special-token string found in the text ("<|endoftext|>") into the
special id; ailab sets `encode_special_tokens = True` so such text is encoded as ordinary text instead
(only `add_bos`/`add_eos` produce special ids). That flag is not stored in `tokenizer.json`: a raw
`tokenizers.Tokenizer.from_file` gives the same ids on all text except text containing special-token strings;
`to_hf_tokenizer()` carries it over as `split_special_tokens=True`.

Byte-level BPE is encoded with `tiktoken` where it can represent the tokenizer (`ailab.tokenizers.tiktoken_bpe`
decides, and builds the encoder from `tokenizer.json` on the first encode): the same ids, several times faster.
Everything else (other models, normalizers, `AILAB_TIKTOKEN=0`) is encoded by the Rust tokenizer itself.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from tokenizers import Tokenizer as RustTokenizer

from ailab.io import atomic_write_text
from ailab.tokenizers.base import Tokenizer
from ailab.tokenizers.tiktoken_bpe import TiktokenEncoder, tiktoken_encoder

TOKENIZER_FILE = "tokenizer.json"
_Self = TypeVar("_Self", bound="FastTokenizer")


class FastTokenizer(Tokenizer):
    """Wraps a `tokenizers.Tokenizer` whose special tokens (BOS, EOS, PAD) are named by their strings."""

    def __init__(
        self,
        backend: RustTokenizer,
        *,
        bos_token: str | None,
        eos_token: str | None,
        pad_token: str | None,
    ) -> None:
        self._backend = backend
        self._backend.encode_special_tokens = True  # literal "<|endoftext|>" in text is text, not EOS
        self._tokens = {"bos": bos_token, "eos": eos_token, "pad": pad_token}
        self._ids = {role: self._lookup(role, token) for role, token in self._tokens.items()}

    def _lookup(self, role: str, token: str | None) -> int | None:
        if token is None:
            return None
        token_id = self._backend.token_to_id(token)
        if token_id is None:
            raise ValueError(f"{role.upper()} token {token!r} is not in the vocabulary of this tokenizer.json")
        return token_id

    def __getstate__(self) -> dict[str, Any]:
        # pickle via tokenizer.json: a pickled Rust tokenizer would lose encode_special_tokens
        return {"tokenizer_json": self._backend.to_str(), "tokens": self._tokens}

    def __setstate__(self, state: dict[str, Any]) -> None:
        FastTokenizer.__init__(
            self,
            RustTokenizer.from_str(state["tokenizer_json"]),
            **{f"{role}_token": token for role, token in state["tokens"].items()},
        )

    @classmethod
    def from_directory(cls, directory: Path, settings: dict[str, Any]) -> FastTokenizer:
        """Rebuild from `tokenizer.json` plus the settings `save` put in `ailab_tokenizer.json`."""
        path = directory / TOKENIZER_FILE
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: {directory} holds an incomplete {cls.__name__}; save it again")
        return cls.wrap(
            RustTokenizer.from_file(str(path)),
            bos_token=settings.get("bos_token"),
            eos_token=settings.get("eos_token"),
            pad_token=settings.get("pad_token"),
        )

    @classmethod
    def wrap(
        cls: type[_Self], backend: RustTokenizer, *, bos_token: str | None, eos_token: str | None, pad_token: str | None
    ) -> _Self:
        """An instance of `cls` around `backend`, bypassing a subclass `__init__` (which builds or loads its own)."""
        tokenizer = cls.__new__(cls)
        FastTokenizer.__init__(tokenizer, backend, bos_token=bos_token, eos_token=eos_token, pad_token=pad_token)
        return tokenizer

    @property
    def backend(self) -> RustTokenizer:
        """The underlying `tokenizers.Tokenizer` (shared, not a copy)."""
        return self._backend

    @property
    def vocab_size(self) -> int:
        return self._backend.get_vocab_size(with_added_tokens=True)

    @property
    def bos_token_id(self) -> int | None:
        return self._ids["bos"]

    @property
    def eos_token_id(self) -> int | None:
        return self._ids["eos"]

    @property
    def pad_token_id(self) -> int | None:
        return self._ids["pad"]

    @functools.cached_property
    def _tiktoken(self) -> TiktokenEncoder | None:
        """The tiktoken encoder of this tokenizer.json, built on first use; None where tiktoken cannot be used."""
        return tiktoken_encoder(json.loads(self._backend.to_str()))

    def _encode_plain(self, texts: Sequence[str]) -> list[list[int]]:
        if self._tiktoken is not None:
            return self._tiktoken.encode_ordinary(texts)
        # encode_batch_fast skips computing character offsets, which we never use (~2x faster than encode_batch).
        return [encoding.ids for encoding in self._backend.encode_batch_fast(texts, add_special_tokens=False)]

    def _decode_plain(self, ids: list[int], skip_special_tokens: bool) -> str:
        return self._backend.decode(ids, skip_special_tokens=skip_special_tokens)

    def id_to_token(self, token_id: int) -> str:
        self._check_id(token_id)
        return self._backend.id_to_token(token_id)

    def _save_files(self, directory: Path) -> dict[str, Any]:
        atomic_write_text(directory / TOKENIZER_FILE, self._backend.to_str(pretty=True))
        return {f"{role}_token": token for role, token in self._tokens.items()}

    def _canonical_bytes(self) -> bytes:
        canonical = json.loads(self._backend.to_str())
        canonical["ailab_special_tokens"] = self._tokens
        return json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode()

    def to_hf_tokenizer(self):
        """A `transformers.PreTrainedTokenizerFast` over a copy of the same Rust tokenizer: identical ids."""
        from transformers import PreTrainedTokenizerFast

        backend = copy.deepcopy(self._backend)
        backend.encode_special_tokens = False  # transformers applies split_special_tokens itself
        return PreTrainedTokenizerFast(
            tokenizer_object=backend,
            bos_token=self._tokens["bos"],
            eos_token=self._tokens["eos"],
            pad_token=self._tokens["pad"],
            split_special_tokens=True,
            clean_up_tokenization_spaces=False,
        )
