"""Rebuild the pre-trained `TinyStoriesBpe8kTokenizer` that ships in `ailab/tokenizers/data/tinystories-bpe-8k/`.

Trains the project's own recipe (`TinyStoriesBpe8kTokenizer.train`) on a TinyStories `.txt` file (each story
followed by a line holding only `<|endoftext|>`, the format of the official release) and writes `tokenizer.json`
and a NOTE.md naming the data (file, sha256, number of stories), the command and the licence. Training is
deterministic: the same file gives a byte-identical `tokenizer.json`.

    python scripts/build_tinystories_tokenizer.py ../shared/data/tinystories/train.txt
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import tokenizers

from ailab.datasets.sources import read_separated_text
from ailab.io import atomic_write_text
from ailab.tokenizers.bpe import PRETRAINED_TINYSTORIES_FILE, TinyStoriesBpe8kTokenizer

SEPARATOR = "<|endoftext|>"
DEFAULT_ABOUT = (
    "a partial sample of the TinyStories training split, 7,038 stories: the first 2 MiB of V1 "
    "`TinyStories-train.txt`, the first 10,000 lines of V2 `TinyStoriesV2-GPT4-train.txt` and a 3,000-story "
    "subset, deduplicated; no text rewritten"
)

NOTE = """# Pre-trained `TinyStoriesBpe8kTokenizer`

`tokenizer.json` is the tokenizer that `TinyStoriesBpe8kTokenizer()` loads: a byte-level BPE (GPT-2 style) of
{vocab_size:,} tokens trained with ailab's own recipe, `TinyStoriesBpe8kTokenizer.train` (special tokens
`<|endoftext|>` = id 0, BOS and EOS, and `<|pad|>` = id 1; then the 256 byte tokens; `min_frequency` 2).
It is a standard Hugging Face `tokenizers` file: `tokenizers.Tokenizer.from_file` reads it.

## Data it was trained on

| file | bytes | sha256 | stories |
| --- | ---: | --- | ---: |
| `{file_name}` | {file_bytes:,} | `{file_sha256}` | {stories:,} |

The file is {about}. Stories are the documents between `<|endoftext|>` lines, read by
`ailab.datasets.sources.read_separated_text` (each stripped of surrounding whitespace).

## How it was built

    python scripts/build_tinystories_tokenizer.py path/to/{file_name}

with `tokenizers` {tokenizers_version}. Rerunning the command on the same file gives the identical
`tokenizer.json` (sha256 `{tokenizer_sha256}`).

## Licence

TinyStories (Ronen Eldan and Yuanzhi Li, 2023, "TinyStories: How Small Can Language Models Be and Still Speak
Coherent English?", arXiv:2305.07759; Hugging Face dataset `roneneldan/TinyStories`) is published under the
Community Data License Agreement – Sharing 1.0 (CDLA-Sharing-1.0). No text of the stories is in this directory:
the vocabulary and merges are a result computed from them, which CDLA-Sharing-1.0 leaves outside the terms on
sharing the data itself. Attribution: TinyStories, Eldan & Li 2023.
"""


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def build(train_file: Path, out_dir: Path, about: str) -> Path:
    """Train the recipe on the stories of `train_file` and write `tokenizer.json` and NOTE.md into `out_dir`."""
    counted = Counter()

    def stories() -> Iterator[str]:
        for story in read_separated_text([train_file], SEPARATOR):
            counted["stories"] += 1
            yield story

    tokenizer = TinyStoriesBpe8kTokenizer.train(stories())  # streamed: the full 2 GB release fits too
    if not counted["stories"]:
        raise ValueError(f"{train_file} holds no stories; it must be TinyStories text separated by {SEPARATOR} lines")
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer_file = out_dir / PRETRAINED_TINYSTORIES_FILE.name
    atomic_write_text(tokenizer_file, tokenizer.backend.to_str(pretty=True))
    note = NOTE.format(
        vocab_size=tokenizer.vocab_size,
        file_name=train_file.name,
        file_bytes=train_file.stat().st_size,
        file_sha256=sha256_of(train_file),
        stories=counted["stories"],
        about=about,
        tokenizers_version=tokenizers.__version__,
        tokenizer_sha256=sha256_of(tokenizer_file),
    )
    atomic_write_text(out_dir / "NOTE.md", note)
    return tokenizer_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train_file", type=Path, help="TinyStories .txt, stories separated by <|endoftext|> lines")
    parser.add_argument("--out", type=Path, default=PRETRAINED_TINYSTORIES_FILE.parent, help="output directory")
    parser.add_argument("--about", default=DEFAULT_ABOUT, help="what the training file is, for NOTE.md")
    args = parser.parse_args(argv)
    if not args.train_file.is_file():
        print(f"error: {args.train_file} is not a file; pass a TinyStories .txt file", file=sys.stderr)
        return 2
    path = build(args.train_file, args.out, args.about)
    print(f"wrote {path} (sha256 {sha256_of(path)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
