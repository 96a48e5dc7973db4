"""Character-level tokenizer over printable ASCII plus newline: a fixed vocabulary of 98 tokens, nothing to train.

Ids: 0 `<|endoftext|>` (BOS and EOS), 1 `<|pad|>`, 2 "\\n", then 3..97 for the characters " " (32) .. "~" (126).

Encoding never fails. Text is first NFKD-normalised (so "é" becomes "e" + a combining accent, "…" becomes "...",
"ﬁ" becomes "fi", non-breaking and other Unicode spaces become " "), then `ASCII_REPLACEMENTS` maps common
typographic punctuation to ASCII (curly quotes, dashes, tabs, CR/LF), and every character still outside the
alphabet is dropped (accents, emoji, CJK, control characters). Text already in the alphabet round-trips exactly.
"""

from __future__ import annotations

from tokenizers import AddedToken, Regex, decoders, models, normalizers
from tokenizers import Tokenizer as RustTokenizer

from ailab.tokenizers.fast import FastTokenizer

EOS_TOKEN = "<|endoftext|>"
PAD_TOKEN = "<|pad|>"
ALPHABET = "\n" + "".join(chr(c) for c in range(32, 127))
"""The 96 characters with a token: newline and printable ASCII."""

ASCII_REPLACEMENTS: dict[str, str] = {
    "\r\n": "\n", "\r": "\n", "\u2028": "\n", "\u2029": "\n", "\u0085": "\n",  # line breaks
    "\t": " ",
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",  # ‘ ’ ‚ ‛ ′
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',  # “ ” „ ‟ ″
    "\u00ab": '"', "\u00bb": '"',  # « »
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",  # dashes
    "\u2026": "...",  # … (NFKD already does this; kept so the table documents it)
}
"""Applied in order after NFKD normalisation; anything else outside `ALPHABET` is then removed."""


def _build_backend() -> RustTokenizer:
    specials = [EOS_TOKEN, PAD_TOKEN]
    vocab = {token: i for i, token in enumerate(specials + list(ALPHABET))}
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
