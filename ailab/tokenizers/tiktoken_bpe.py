"""Byte-level BPE encoding with `tiktoken`: the ids of `tokenizers`, several times faster, built from `tokenizer.json`.

`tokenizers` stays the trainer and the format on disk. When a `tokenizer.json` describes plain GPT-2-style byte-level
BPE (see `tiktoken_incompatibility` for the exact conditions), `tiktoken_encoder` builds a `tiktoken.Encoding` from it
at load time: the same pre-tokenizer regex, each vocabulary string mapped back to its bytes through the GPT-2
byte-to-character table, and each token's id as its rank. tiktoken merges the adjacent pair whose concatenation has
the lowest rank, `tokenizers` the pair whose merge came first; since the ids of merged tokens increase in merge order
(checked), both pick the same pairs on BPE-trained merges: the tests check the ids on the built-in corpus and on
random Unicode, `benchmarks/bench_prepare.py` on the TinyStories sample. Special tokens are never matched in the
text (`encode_ordinary`): a literal "<|endoftext|>" is ordinary text, as everywhere in ailab.

Set `AILAB_TIKTOKEN=0` to encode with `tokenizers` anyway (e.g. to compare the two).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import tiktoken

DISABLE_ENV = "AILAB_TIKTOKEN"
"""Environment variable: "0" (or "false", "off", "no") makes every tokenizer encode with `tokenizers`."""

GPT2_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
"""The pre-tokenizer regex of `tokenizers`' ByteLevel(use_regex=True), alternatives in the same order."""

_OFF = ("0", "false", "off", "no", "n")


def _byte_of_char() -> dict[str, int]:
    """GPT-2's byte <-> printable character table, inverted: the character each vocabulary string uses -> its byte."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars = {b: chr(b) for b in printable}
    shifted = 0
    for b in range(256):
        if b not in chars:
            chars[b] = chr(256 + shifted)
            shifted += 1
    return {char: b for b, char in chars.items()}


_BYTE_OF_CHAR = _byte_of_char()


def _token_bytes(token: str) -> bytes | None:
    """The bytes a byte-level vocabulary string stands for; None if it holds a character outside the table."""
    try:
        return bytes(_BYTE_OF_CHAR[char] for char in token)
    except KeyError:
        return None


def _merge_pair(merge: Any) -> tuple[str, str] | None:
    """A merge as stored in tokenizer.json: ["a", "b"] (tokenizers >= 0.20) or "a b" (older files)."""
    if isinstance(merge, str):
        parts = merge.split(" ")
        return (parts[0], parts[1]) if len(parts) == 2 else None
    if isinstance(merge, list) and len(merge) == 2 and all(isinstance(part, str) for part in merge):
        return merge[0], merge[1]
    return None


def _is_gpt2_byte_level(component: Any, **expected: Any) -> bool:
    return (
        isinstance(component, dict)
        and component.get("type") == "ByteLevel"
        and all(component.get(key, value) == value for key, value in expected.items())
    )


def tiktoken_incompatibility(spec: dict[str, Any]) -> str | None:
    """Why the tokenizer described by `spec` (a parsed tokenizer.json) cannot be encoded by tiktoken; None if it can.

    The one place that decides: tiktoken reproduces `tokenizers` exactly for byte-level BPE without a normalizer,
    with ByteLevel(add_prefix_space=False, use_regex=True) pre-tokenization, no dropout, prefixes or suffixes, no
    byte fallback, only special added tokens, all 256 byte tokens, and merged tokens whose ids follow the merges.
    """
    model = spec.get("model") or {}
    if model.get("type") != "BPE":
        return f"the model is {model.get('type')!r}, not byte-level BPE"
    if spec.get("normalizer") is not None:
        return "it has a normalizer"
    if not _is_gpt2_byte_level(spec.get("pre_tokenizer"), add_prefix_space=False, use_regex=True):
        return "its pre-tokenizer is not ByteLevel(add_prefix_space=False, use_regex=True)"
    for key in ("dropout", "continuing_subword_prefix", "end_of_word_suffix"):
        if model.get(key):
            return f"its BPE model sets {key}"
    if model.get("byte_fallback") or model.get("ignore_merges"):
        return "its BPE model uses byte_fallback or ignore_merges"
    if any(not token.get("special") for token in spec.get("added_tokens") or []):
        return "it has non-special added tokens, which tokenizers matches in the text"
    vocab, added = model.get("vocab") or {}, {token.get("content") for token in spec.get("added_tokens") or []}
    byte_tokens = [token for token in vocab if token not in added and len(token) == 1]
    if sorted(_BYTE_OF_CHAR[t] for t in byte_tokens if t in _BYTE_OF_CHAR) != list(range(256)):
        return "its vocabulary lacks some of the 256 byte tokens"
    last = -1
    for merge in model.get("merges") or []:
        pair = _merge_pair(merge)
        token_id = vocab.get(pair[0] + pair[1]) if pair else None
        if token_id is None or token_id <= last or _token_bytes(pair[0] + pair[1]) is None:
            return f"its merge {merge!r} does not make a new token with an id above the previous merge's"
        last = token_id
    return None


def tiktoken_encoder(spec: dict[str, Any], name: str = "ailab-bpe") -> TiktokenEncoder | None:
    """A tiktoken encoder with the same ids as the `tokenizers` model `spec`, or None where tiktoken cannot be used
    (`tiktoken_incompatibility` says why, or `AILAB_TIKTOKEN=0` turns it off)."""
    if os.environ.get(DISABLE_ENV, "1").strip().lower() in _OFF or tiktoken_incompatibility(spec) is not None:
        return None
    model = spec["model"]
    vocab = model["vocab"]
    ranks = {bytes([_BYTE_OF_CHAR[token]]): vocab[token] for token in vocab if token in _BYTE_OF_CHAR}
    for merge in model["merges"]:
        left, right = _merge_pair(merge)
        ranks[_token_bytes(left + right)] = vocab[left + right]
    specials = {token["content"]: token["id"] for token in spec.get("added_tokens") or []}
    encoding = tiktoken.Encoding(name, pat_str=GPT2_PATTERN, mergeable_ranks=ranks, special_tokens=specials)
    return TiktokenEncoder(encoding)


class TiktokenEncoder:
    """Encodes texts with a `tiktoken.Encoding`, special-token strings as ordinary text."""

    def __init__(self, encoding: tiktoken.Encoding) -> None:
        self.encoding = encoding

    def encode_ordinary(self, texts: Sequence[str]) -> list[list[int]]:
        """Ids of each text: on one thread per core (each encoding a contiguous slice of `texts`; tiktoken releases the
        GIL) unless TOKENIZERS_PARALLELISM turns parallelism off, as in `tokenizers`, so packing's workers stay
        single-threaded."""
        parallel = os.environ.get("TOKENIZERS_PARALLELISM", "true").strip().lower() not in _OFF
        threads = min(len(texts), os.cpu_count() or 1) if parallel else 1
        if threads <= 1:
            return self._encode_slice(texts)
        size = -(-len(texts) // threads)
        with ThreadPoolExecutor(threads) as pool:
            parts = pool.map(self._encode_slice, [texts[i : i + size] for i in range(0, len(texts), size)])
            return [ids for part in parts for ids in part]

    def _encode_slice(self, texts: Sequence[str]) -> list[list[int]]:
        encode = self.encoding.encode_ordinary
        return [encode(text) for text in texts]
