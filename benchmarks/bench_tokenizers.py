"""Tokenizer training time and encoding throughput on the built-in story corpus.

Encoding is measured the way corpora are packed (`encode_batch` over many documents) against two baselines
run in the same process: the backend encoding one document per call, and for `tokenizers` its plain
`encode_batch` (which also computes character offsets).

    python benchmarks/bench_tokenizers.py [--stories 6000] [--vocab-size 4096]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable

from ailab.datasets import generate_builtin_corpus
from ailab.tokenizers import BpeTokenizer, LlamaTokenizer, StrippedAsciiTokenizer


def best_of(fn: Callable[[], object], repeats: int = 3) -> float:
    """Fastest wall time of `repeats` calls, in seconds (the least disturbed by other jobs on the machine)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def report(name: str, seconds: float, num_bytes: int, num_tokens: int) -> None:
    print(f"| {name} | {seconds * 1e3:9.1f} | {num_bytes / seconds / 1e6:7.2f} | {num_tokens / seconds / 1e6:6.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=6000)
    parser.add_argument("--vocab-size", type=int, default=4096)
    args = parser.parse_args()

    docs = generate_builtin_corpus(num_stories=args.stories, seed=0)
    num_bytes = sum(len(d.encode()) for d in docs)
    print(f"{len(docs)} stories, {num_bytes / 1e6:.1f} MB; {os.cpu_count()} CPUs; {platform.processor() or 'cpu'}\n")

    start = time.perf_counter()
    bpe = BpeTokenizer.train(iter(docs), args.vocab_size)
    bpe_train = time.perf_counter() - start
    start = time.perf_counter()
    llama = LlamaTokenizer.train(iter(docs), args.vocab_size)
    llama_train = time.perf_counter() - start
    print(
        f"train BpeTokenizer({args.vocab_size}): {bpe_train:.2f} s; "
        f"LlamaTokenizer({args.vocab_size}): {llama_train:.2f} s\n"
    )

    ascii_tok = StrippedAsciiTokenizer()
    backend, processor = bpe.backend, llama.processor
    print("| encoder | ms | MB/s | Mtok/s |")
    print("|---|---:|---:|---:|")
    for name, tokenizer, baselines in [
        (
            "bpe",
            bpe,
            {
                "tokenizers encode() per document": lambda: [
                    backend.encode(d, add_special_tokens=False).ids for d in docs
                ],
                "tokenizers encode_batch() (with offsets)": lambda: [
                    e.ids for e in backend.encode_batch(docs, add_special_tokens=False)
                ],
            },
        ),
        (
            "sentencepiece",
            llama,
            {
                "sentencepiece encode() per document": lambda: [processor.encode(d) for d in docs],
            },
        ),
        (
            "ascii",
            ascii_tok,
            {
                "tokenizers encode() per document": lambda: [
                    ascii_tok.backend.encode(d, add_special_tokens=False).ids for d in docs
                ],
            },
        ),
    ]:
        num_tokens = sum(len(ids) for ids in tokenizer.encode_batch(docs))
        for baseline, fn in baselines.items():
            report(f"{name}: baseline, {baseline}", best_of(fn), num_bytes, num_tokens)
        report(
            f"{name}: ailab encode_batch()", best_of(lambda t=tokenizer: t.encode_batch(docs)), num_bytes, num_tokens
        )
        print(f"|   ({name}: {num_bytes / num_tokens:.2f} bytes/token) | | | |")


if __name__ == "__main__":
    main()
