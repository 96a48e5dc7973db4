"""Character-level tokenizer over printable ASCII plus newline: a fixed vocabulary of 98 tokens, nothing to train.

Ids: 0 `<|endoftext|>` (BOS and EOS), 1 `<|pad|>`, 2 "\\n", then 3..97 for the characters " " (32) .. "~" (126).

Encoding never fails. Text is first NFKD-normalised (so "é" becomes "e" + a combining accent, "…" becomes "...",
"ﬁ" becomes "fi", non-breaking and other Unicode spaces become " "), then `ASCII_REPLACEMENTS` maps common
typographic punctuation to ASCII (curly quotes, dashes, tabs, CR/LF), and every character still outside the
alphabet is dropped (accents, emoji, CJK, control characters). Text already in the alphabet round-trips exactly.

Encoding runs in Python with `bytes.translate` (C speed: over 10x faster here than the same rules as a chain of
`tokenizers` normalizers, which track alignments at every step). The equivalent `tokenizers.Tokenizer` is kept
for `tokenizer.json` and `to_hf_tokenizer()`, and tests check both give the same ids.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tokenizers import AddedToken, Regex, decoders, models, normalizers
from tokenizers import Tokenizer as RustTokenizer

from ailab.tokenizers.fast import FastTokenizer

EOS_TOKEN = "<|endoftext|>"
PAD_TOKEN = "<|pad|>"
ALPHABET = "\n" + "".join(chr(c) for c in range(32, 127))
"""The 96 characters with a token: newline and printable ASCII."""

ASCII_REPLACEMENTS: dict[str, str] = {
    "\r\n": "\n",
    "\r": "\n",
    "\u2028": "\n",
    "\u2029": "\n",
    "\u0085": "\n",  # line breaks
    "\t": " ",
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",  # ‘ ’ ‚ ‛ ′
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u2033": '"',  # “ ” „ ‟ ″
    "\u00ab": '"',
    "\u00bb": '"',  # « »
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",  # dashes
    "\u2026": "...",  # … (NFKD already does this; kept so the table documents it)
}
"""Applied in order after NFKD normalisation; anything else outside `ALPHABET` is then removed."""


SPECIAL_TOKENS = (EOS_TOKEN, PAD_TOKEN)
VOCAB = SPECIAL_TOKENS + tuple(ALPHABET)
"""Token of each id."""

# byte value -> token id for alphabet bytes; the other ASCII bytes (control characters, DEL) are deleted
_ID_OF_BYTE = bytes(VOCAB.index(chr(b)) if chr(b) in ALPHABET else 0 for b in range(256))
_BYTES_OUTSIDE = bytes(b for b in range(128) if chr(b) not in ALPHABET)


def to_ascii(text: str) -> str:
    """`text` reduced to `ALPHABET`: NFKD, then `ASCII_REPLACEMENTS` in order, then the rest removed."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
    for old, new in ASCII_REPLACEMENTS.items():
        if old in text:
            text = text.replace(old, new)
    return text.encode("ascii", "ignore").translate(None, _BYTES_OUTSIDE).decode("ascii")


def _encode_one(text: str) -> list[int]:
    if not text.isascii() or "\r" in text or "\t" in text:
        text = to_ascii(text)
    return list(text.encode("ascii").translate(_ID_OF_BYTE, _BYTES_OUTSIDE))


def _build_backend() -> RustTokenizer:
    specials = list(SPECIAL_TOKENS)
    vocab = {token: i for i, token in enumerate(VOCAB)}
    backend = RustTokenizer(models.BPE(vocab=vocab, merges=[]))  # no merges: one token per character
    backend.normalizer = normalizers.Sequence(
        [normalizers.NFKD()]
        + [normalizers.Replace(old, new) for old, new in ASCII_REPLACEMENTS.items()]
        + [normalizers.Replace(Regex(r"[^\n\x20-\x7e]"), "")]
    )
    backend.decoder = decoders.Fuse()  # concatenate characters (the default decoder would join them with spaces)
    backend.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    return backend


class StrippedAsciiTokenizer(FastTokenizer):
    """One token per printable ASCII character or newline; other characters mapped (see module doc) or dropped."""

    kind = "ascii"

    def __init__(self) -> None:
        super().__init__(_build_backend(), bos_token=EOS_TOKEN, eos_token=EOS_TOKEN, pad_token=PAD_TOKEN)

    @classmethod
    def from_directory(cls, directory: Path, settings: dict[str, Any]) -> StrippedAsciiTokenizer:
        """The fixed tokenizer, after checking that `directory` holds the same one (not an older, different one)."""
        saved = FastTokenizer.from_directory(directory, settings)
        tokenizer = cls()
        if saved._canonical_bytes() != tokenizer._canonical_bytes():
            raise ValueError(
                f"{directory} holds a StrippedAsciiTokenizer that differs from this version's; retrain/re-save it"
            )
        return tokenizer

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()

    def _encode_plain(self, texts: Sequence[str]) -> list[list[int]]:
        return [_encode_one(text) for text in texts]

    def _decode_plain(self, ids: list[int], skip_special_tokens: bool) -> str:
        first = len(SPECIAL_TOKENS) if skip_special_tokens else 0
        return "".join([VOCAB[i] for i in ids if i >= first])
