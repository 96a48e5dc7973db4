"""Tiny seeded corpora and random Unicode strings for the tokenizer tests."""

from __future__ import annotations

import random

WORDS = (
    "the a little girl boy named Lily Tom Ben Sue was happy sad big small red blue ball dog cat tree park "
    "saw went to played with and but then one day she he they wanted said mom friend home sun sky"
).split()


def make_corpus(num_docs: int = 300, seed: int = 0) -> list[str]:
    """Short TinyStories-like documents; some span several lines and contain digits and punctuation."""
    rng = random.Random(seed)
    docs = []
    for _ in range(num_docs):
        sentences = []
        for _ in range(rng.randint(1, 4)):
            words = [rng.choice(WORDS) for _ in range(rng.randint(3, 12))]
            if rng.random() < 0.2:
                words.insert(rng.randrange(len(words)), str(rng.randint(0, 2024)))
            sentences.append(" ".join(words).capitalize() + rng.choice([".", "!", "?", '."']))
        docs.append(rng.choice([" ", "\n", "\n\n"]).join(sentences))
    return docs


# Code point ranges to draw random text from: ASCII, Latin-1, combining marks, Greek, Cyrillic, CJK, emoji,
# whitespace and control characters (all assigned since long before Unicode 14, so every library agrees on them).
UNICODE_RANGES = [
    (0x20, 0x7E),
    (0x09, 0x0D),
    (0xA0, 0xFF),
    (0x300, 0x36F),
    (0x391, 0x3C9),
    (0x410, 0x44F),
    (0x4E00, 0x4FFF),
    (0x3040, 0x309F),
    (0x1F600, 0x1F64F),
    (0x2000, 0x206F),
    (0x0, 0x1F),
]


def random_unicode(rng: random.Random, max_len: int = 40) -> str:
    chars = []
    for _ in range(rng.randint(0, max_len)):
        lo, hi = rng.choice(UNICODE_RANGES)
        chars.append(chr(rng.randint(lo, hi)))
    return "".join(chars)
