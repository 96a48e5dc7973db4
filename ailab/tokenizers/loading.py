"""Pick a tokenizer by kind: `train_tokenizer` makes a new one, `load_tokenizer` reads one that `save` wrote.

The kinds are the values of `tokenizer.kind` in params.yaml. Each gives a tokenizer class whose own `kind`
(saved in `ailab_tokenizer.json`) is "bpe", "ascii" or "sentencepiece": "tinystories-bpe-8k" is a "bpe".
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterable
from pathlib import Path

from ailab.framing import DocumentFraming
from ailab.tokenizers.base import MARKER_FILE, Tokenizer
from ailab.tokenizers.bpe import BpeTokenizer, TinyStoriesBpe8kTokenizer
from ailab.tokenizers.fast import TOKENIZER_FILE
from ailab.tokenizers.llama_sentencepiece import MODEL_FILE, LlamaTokenizer
from ailab.tokenizers.stripped_ascii import StrippedAsciiTokenizer

TOKENIZER_KINDS = ("bpe", "ascii", "sentencepiece", "tinystories-bpe-8k")
FIXED_KINDS = ("ascii", "tinystories-bpe-8k")
"""Kinds with nothing to train: `train_tokenizer` returns their one tokenizer without reading the texts."""
RESAVE_FIX = "save the tokenizer there again with tokenizer.save(dir) (or rerun the train_tokenizer stage)"
_CLASSES: dict[str, type[Tokenizer]] = {
    cls.__name__: cls for cls in (BpeTokenizer, TinyStoriesBpe8kTokenizer, StrippedAsciiTokenizer, LlamaTokenizer)
}
_CLASS_OF_KIND = {"bpe": BpeTokenizer, "ascii": StrippedAsciiTokenizer, "sentencepiece": LlamaTokenizer}


def check_vocab_size(kind: str, vocab_size: int | None) -> None:
    """Refuse a `vocab_size` that `kind` cannot have: the pre-trained "tinystories-bpe-8k" has exactly 8192 tokens."""
    fixed = TinyStoriesBpe8kTokenizer.VOCAB_SIZE
    if kind == "tinystories-bpe-8k" and vocab_size not in (None, fixed):
        raise ValueError(
            f"tokenizer kind 'tinystories-bpe-8k' is pre-trained with exactly {fixed} tokens, "
            f"so vocab_size={vocab_size} cannot apply; set vocab_size to {fixed} (or null), "
            f"or use kind 'bpe' to train a tokenizer of {vocab_size} tokens"
        )


def train_tokenizer(kind: str, texts: Iterable[str], vocab_size: int | None) -> Tokenizer:
    """A new tokenizer of `kind` (one of `TOKENIZER_KINDS`) trained on `texts`.

    "bpe" with vocab_size 8192 is the `TinyStoriesBpe8kTokenizer` recipe. The `FIXED_KINDS` do not read `texts`:
    "tinystories-bpe-8k" is the shipped pre-trained `TinyStoriesBpe8kTokenizer()` (vocab_size must be 8192 or None),
    "ascii" has a fixed vocabulary of 98 (a different `vocab_size` is ignored with a warning).
    """
    if kind not in TOKENIZER_KINDS:
        raise ValueError(f"unknown tokenizer kind {kind!r}; choose one of {list(TOKENIZER_KINDS)}")
    check_vocab_size(kind, vocab_size)
    if kind == "tinystories-bpe-8k":
        return TinyStoriesBpe8kTokenizer()
    if kind == "ascii":
        tokenizer = StrippedAsciiTokenizer()
        if vocab_size is not None and vocab_size != tokenizer.vocab_size:
            warnings.warn(
                f"tokenizer kind 'ascii' has a fixed vocabulary of {tokenizer.vocab_size}; "
                f"vocab_size={vocab_size} is ignored",
                stacklevel=2,
            )
        return tokenizer
    if vocab_size is None:
        raise ValueError(f"tokenizer kind {kind!r} needs a vocab_size (e.g. 8192)")
    if kind == "bpe":
        if vocab_size == TinyStoriesBpe8kTokenizer.VOCAB_SIZE:
            return TinyStoriesBpe8kTokenizer.train(texts)
        return BpeTokenizer.train(texts, vocab_size)
    return LlamaTokenizer.train(texts, vocab_size)


def load_tokenizer(directory: str | os.PathLike) -> Tokenizer:
    """The tokenizer that `Tokenizer.save(directory)` wrote, as the same class, with the directory's document framing
    (`tokenizer.framing`, None when it has none)."""
    directory = Path(directory)
    marker = directory / MARKER_FILE
    if not marker.is_file():
        what = "does not exist" if not directory.exists() else f"has no {MARKER_FILE}"
        raise FileNotFoundError(
            f"no ailab tokenizer in {directory}: the directory {what}. "
            "Save one there with tokenizer.save(dir) (or run the train_tokenizer stage)."
        )
    try:
        settings = json.loads(marker.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{marker} is damaged (not JSON: {err}); {RESAVE_FIX}") from err
    if not isinstance(settings, dict):
        raise ValueError(f"{marker} is damaged (not a JSON object); {RESAVE_FIX}")
    kind = settings.get("kind")
    cls = _CLASSES.get(settings.get("class", ""), _CLASS_OF_KIND.get(kind))
    if cls is None or cls.kind != kind:
        raise ValueError(f"{marker} names an unknown tokenizer (kind={kind!r}); known kinds: {list(_CLASS_OF_KIND)}")
    try:
        tokenizer = cls.from_directory(directory, settings)
    except (FileNotFoundError, ValueError):
        raise
    except Exception as err:  # tokenizers and sentencepiece raise bare Exception/RuntimeError/OSError on a bad file
        data_file = directory / (MODEL_FILE if issubclass(cls, LlamaTokenizer) else TOKENIZER_FILE)
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ValueError(f"{data_file} is damaged ({reason}); {RESAVE_FIX}") from err
    tokenizer.framing = DocumentFraming.load(directory)
    return tokenizer
