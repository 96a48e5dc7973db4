"""The built-in story corpus beside real TinyStories: size, vocabulary, repetitiveness, originality, speed.

    python benchmarks/bench_builtin_corpus.py [--num-stories 6000] [--seed 0] [--repeats 5]

Generation time is the best of `--repeats` runs (wall and CPU time of this process). The TinyStories baseline is
../shared/data/tinystories/train.txt when it exists (read in place, never copied): the same statistics on real
stories, plus an originality check (how many of our longer sentences are also sentences of TinyStories).

Statistics, for each corpus:
- words: lowercase word tokens; distinct words, and those seen at least 5 times (learnable by a small model);
- gzip ratio: compressed/raw bytes, lower = more repetitive text;
- bigram bits/word: cross-entropy of an add-0.1 word bigram model fit on 95% of the stories and scored on the other
  5%; a crude stand-in for "is there something left to learn": a grammar a bigram model already predicts perfectly
  would give a meaningless validation loss.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import math
import re
import time
from pathlib import Path

from ailab.datasets.builtin_corpus import generate_builtin_corpus

WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
QUOTE = '"'
SENTENCE = re.compile(r"(?<=[.!?])\s+")
TINYSTORIES = Path(__file__).resolve().parents[2] / "shared" / "data" / "tinystories" / "train.txt"


def bigram_bits_per_word(stories: list[str], k: float = 0.1) -> float:
    cut = int(len(stories) * 0.95)
    unigrams, bigrams = collections.Counter(), collections.Counter()
    for story in stories[:cut]:
        words = ["<s>", *WORD.findall(story.lower())]
        unigrams.update(words)
        bigrams.update(zip(words, words[1:]))
    vocab = len(unigrams) + 1  # + unknown
    total_bits, count = 0.0, 0
    for story in stories[cut:]:
        words = ["<s>", *WORD.findall(story.lower())]
        for prev, word in zip(words, words[1:]):
            p = (bigrams[prev, word] + k) / (unigrams[prev] + k * vocab)
            total_bits -= math.log2(p)
            count += 1
    return total_bits / count


def stats(stories: list[str]) -> dict:
    words = collections.Counter(w for s in stories for w in WORD.findall(s.lower()))
    raw = "\n".join(stories).encode()
    lengths = sorted(len(WORD.findall(s)) for s in stories)
    return {
        "stories": len(stories),
        "MB": len(raw) / 1e6,
        "words/story (min/median/max)": f"{lengths[0]}/{lengths[len(lengths) // 2]}/{lengths[-1]}",
        "distinct words": len(words),
        "words seen >= 5 times": sum(1 for c in words.values() if c >= 5),
        "stories with dialogue": f"{sum(QUOTE in s for s in stories) / len(stories):.0%}",
        "gzip ratio": f"{len(gzip.compress(raw, 6)) / len(raw):.3f}",
        "bigram bits/word (held out)": f"{bigram_bits_per_word(stories):.2f}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-stories", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    wall, cpu = [], []
    for _ in range(args.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        ours = generate_builtin_corpus(args.num_stories, args.seed)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    print(
        f"generate_builtin_corpus({args.num_stories}, seed={args.seed}): "
        f"best wall {min(wall):.2f} s, best CPU {min(cpu):.2f} s (of {args.repeats})"
    )

    columns = {"built-in": stats(ours)}
    if TINYSTORIES.exists():
        real = [s.strip() for s in TINYSTORIES.read_text(encoding="utf-8").split("<|endoftext|>") if s.strip()]
        columns["TinyStories sample"] = stats(real)
        real_sentences = {s for story in real for s in SENTENCE.split(story.replace("\n", " "))}
        long_sentences = {s for story in ours for s in SENTENCE.split(story.replace("\n", " ")) if len(s.split()) >= 8}
        copied = sorted(s for s in long_sentences if s in real_sentences)
        print(
            f"originality: {len(copied)} of our {len(long_sentences)} distinct sentences of 8+ words are also "
            f"sentences of the TinyStories sample: {copied}"
        )
    print()
    print("| statistic | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for key in columns["built-in"]:
        print(
            f"| {key} | "
            + " | ".join(str(c[key]) if not isinstance(c[key], float) else f"{c[key]:.2f}" for c in columns.values())
            + " |"
        )
    print()
    print("Sample story (the first one):\n")
    print(ours[0])


if __name__ == "__main__":
    main()
