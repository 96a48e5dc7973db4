"""Byte-level BPE (GPT-2 style) trained with Hugging Face `tokenizers`.

Text is split with the GPT-2 regex, each piece is turned into bytes, and merges are learned over bytes. All
256 byte values are in the vocabulary from the start, so every Unicode string encodes without an unknown
token and decodes back exactly: `decode(encode(s)) == s`.

Special tokens: one `<|endoftext|>` serves as both BOS and EOS (as in GPT-2: documents are separated by it),
plus `<|pad|>` for padding batches. They take ids 0 and 1, before the 256 byte tokens.

`TinyStoriesBpe8kTokenizer()` loads the 8,192-token tokenizer shipped in `data/tinystories-bpe-8k/`, trained with
the same recipe on real TinyStories text (its NOTE.md names the data, the licence and the command that rebuilt it).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from tokenizers import AddedToken, decoders, models, pre_tokenizers, trainers
from tokenizers import Tokenizer as RustTokenizer

from ailab.tokenizers.fast import FastTokenizer

DEFAULT_SPECIAL_TOKENS = {"bos": "<|endoftext|>", "eos": "<|endoftext|>", "pad": "<|pad|>"}
SPECIAL_TOKEN_ROLES = ("bos", "eos", "pad")
NUM_BYTE_TOKENS = 256
PRETRAINED_TINYSTORIES_FILE = Path(__file__).parent / "data" / "tinystories-bpe-8k" / "tokenizer.json"
"""The shipped `TinyStoriesBpe8kTokenizer`, package data (see NOTE.md beside it)."""
_TRAIN_BATCH = 1024  # texts handed to the Rust trainer per call: fewer Python->Rust crossings, bounded memory


def _batched(texts: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(texts)
    while batch := list(itertools.islice(iterator, size)):
        for text in batch:
            if not isinstance(text, str):
                raise TypeError(f"training texts must be str, got {type(text).__name__}: {text!r:.80}")
        yield batch


def _check_special_tokens(special_tokens: Mapping[str, str | None] | None) -> dict[str, str | None]:
    if special_tokens is None:
        return dict(DEFAULT_SPECIAL_TOKENS)
    if not isinstance(special_tokens, Mapping):
        raise TypeError(
            "special_tokens must be a dict of role -> token such as "
            f"{DEFAULT_SPECIAL_TOKENS}, or None for those defaults; got {special_tokens!r}"
        )
    unknown = set(special_tokens) - set(SPECIAL_TOKEN_ROLES)
    if unknown:
        raise ValueError(f"unknown special token roles {sorted(unknown)}; the roles are {list(SPECIAL_TOKEN_ROLES)}")
    tokens = {role: special_tokens.get(role) for role in SPECIAL_TOKEN_ROLES}
    if tokens["eos"] is None:
        raise ValueError("special_tokens needs an 'eos' token: documents are separated by EOS when corpora are packed")
    return tokens


class BpeTokenizer(FastTokenizer):
    """Byte-level BPE: lossless on every Unicode string, saved as a standard `tokenizer.json`."""

    kind = "bpe"

    @classmethod
    def train(
        cls,
        texts: Iterable[str],
        vocab_size: int,
        special_tokens: Mapping[str, str | None] | None = None,
        *,
        min_frequency: int = 2,
        show_progress: bool = False,
    ) -> BpeTokenizer:
        """Learn merges from `texts` (any iterable of str, e.g. a generator: streamed, never held in memory).

        `special_tokens` maps roles "bos", "eos", "pad" to token strings (a role may be None except "eos");
        None means `DEFAULT_SPECIAL_TOKENS`. The result has at most `vocab_size` tokens (fewer if the corpus
        runs out of pairs seen `min_frequency` times).
        """
        tokens = _check_special_tokens(special_tokens)
        specials = list(dict.fromkeys(t for t in tokens.values() if t is not None))  # unique, in role order
        minimum = NUM_BYTE_TOKENS + len(specials)
        if not isinstance(vocab_size, int) or vocab_size < minimum:
            raise ValueError(
                f"vocab_size must be an int >= {minimum} (256 byte tokens + {len(specials)} special tokens), "
                f"got {vocab_size!r}"
            )
        backend = RustTokenizer(models.BPE())
        backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        backend.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            min_frequency=min_frequency,
            special_tokens=[AddedToken(t, special=True, normalized=False) for t in specials],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=show_progress,
        )
        backend.train_from_iterator(_batched(texts, _TRAIN_BATCH), trainer=trainer)
        return cls.wrap(backend, bos_token=tokens["bos"], eos_token=tokens["eos"], pad_token=tokens["pad"])

    @classmethod
    def from_file(cls, path: str | Path, special_tokens: Mapping[str, str | None] | None = None) -> BpeTokenizer:
        """Wrap an existing byte-level BPE `tokenizer.json` (e.g. GPT-2's) whose special tokens are `special_tokens`."""
        tokens = _check_special_tokens(special_tokens)
        return cls.wrap(
            RustTokenizer.from_file(str(path)),
            bos_token=tokens["bos"],
            eos_token=tokens["eos"],
            pad_token=tokens["pad"],
        )


class TinyStoriesBpe8kTokenizer(BpeTokenizer):
    """The TinyStories recipe: 8,192 tokens, the default special tokens, min_frequency 2.

    `TinyStoriesBpe8kTokenizer()` is the pre-trained one shipped with ailab (trained on real TinyStories stories);
    `TinyStoriesBpe8kTokenizer.train(texts)` trains a new one with the same recipe.
    """

    VOCAB_SIZE = 8192

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        """The shipped pre-trained tokenizer, or the `tokenizer.json` at `path` that this recipe trained."""
        file = PRETRAINED_TINYSTORIES_FILE if path is None else Path(path)
        if not file.is_file():
            fix = "reinstall ailab (the file is package data)" if path is None else "pass the path of a tokenizer.json"
            raise FileNotFoundError(f"no tokenizer.json at {file}; {fix}")
        tokens = DEFAULT_SPECIAL_TOKENS
        FastTokenizer.__init__(
            self,
            RustTokenizer.from_file(str(file)),
            bos_token=tokens["bos"],
            eos_token=tokens["eos"],
            pad_token=tokens["pad"],
        )

    @classmethod
    def train(
        cls,
        texts: Iterable[str],
        vocab_size: int = VOCAB_SIZE,
        special_tokens: Any = None,
        *,
        show_progress: bool = False,
        **kwargs: Any,
    ) -> TinyStoriesBpe8kTokenizer:
        """Train the recipe on `texts`; the vocabulary size and special tokens are fixed and cannot be changed."""
        if vocab_size != cls.VOCAB_SIZE or special_tokens is not None or kwargs:
            raise ValueError(
                f"{cls.__name__} is a fixed recipe (vocab_size={cls.VOCAB_SIZE}, default special tokens); "
                "use BpeTokenizer.train to choose other settings"
            )
        return super().train(texts, cls.VOCAB_SIZE, show_progress=show_progress)
