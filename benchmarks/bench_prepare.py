"""Throughput and peak memory of the `prepare` step (tokenize + pack to a memmap): tiktoken against tokenizers.

    python benchmarks/bench_prepare.py [--repeats 2] [--num-proc N] [--vocab-size 4096] [--scale K] [--runs ...]
                                       [--encoders tokenizers,tiktoken] [--tinystories PATH]

Corpora: the built-in stories and, where present, the TinyStories sample (`--tinystories`, default
../shared/data/tinystories/train.txt; read in place, never copied). Both are streamed from a .txt file in every run,
so peak memory shows what packing itself holds. Each run is a fresh subprocess (peak RSS = ru_maxrss of the process
and of its pool workers), once per encoder (`--encoders`): `tokenizers` is today's path (AILAB_TIKTOKEN=0),
`tiktoken` the byte-level BPE encoder built from the same tokenizer.json. Runs (`--runs`, comma-separated keys):
- `loop`: `tokenizer.encode(doc)` once per document in a Python loop (one thread);
- `pack1`: `pack_documents(num_proc=1)` with TOKENIZERS_PARALLELISM=false (the batch encoder on one core);
- `pack1-threads`: `pack_documents(num_proc=1)`, the batch encoder free to use a thread per core;
- `packN`: `pack_documents(num_proc=N)`, N worker processes of one thread each.
`--scale K` packs each corpus repeated K times (peak memory must not grow with K). Best of `--repeats` runs (by wall
time) is reported. Every run of a corpus must write the same token file (the ids of both encoders are equal), or the
benchmark fails. On a shared machine wall time depends on the other jobs; CPU seconds (process + workers) and tokens
per CPU second much less.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TINYSTORIES = REPO.parent / "shared" / "data" / "tinystories" / "train.txt"


def cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children (the packing pool workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_one(config: dict) -> dict:
    """Runs inside the subprocess: one timed packing of `config["corpus"]`; returns the figures."""
    import numpy as np

    from ailab.datasets import pack_documents
    from ailab.datasets.sources import read_separated_text
    from ailab.tokenizers import load_tokenizer
    from ailab.tokenizers.tiktoken_bpe import tiktoken_encoder

    tokenizer = load_tokenizer(config["tokenizer"])
    encoder = "tiktoken" if tiktoken_encoder(json.loads(tokenizer.backend.to_str())) else "tokenizers"
    if encoder != config["encoder"]:
        raise RuntimeError(f"asked to encode with {config['encoder']} but {encoder} encodes this tokenizer")
    docs = read_separated_text([Path(config["corpus"])], "<|endoftext|>")
    out = Path(config["out"])
    start, start_cpu = time.perf_counter(), cpu_seconds()
    if config["mode"] == "loop":
        num_bytes = num_tokens = 0
        eos = tokenizer.eos_token_id
        with open(out, "wb") as f:
            buffer: list[int] = []
            for doc in docs:
                buffer.extend(tokenizer.encode(doc))
                buffer.append(eos)
                num_bytes += len(doc.encode("utf-8"))
                if len(buffer) >= 1 << 20:
                    np.array(buffer, dtype=np.uint16).tofile(f)
                    num_tokens += len(buffer)
                    buffer = []
            np.array(buffer, dtype=np.uint16).tofile(f)
            num_tokens += len(buffer)
    else:
        meta = pack_documents(docs, tokenizer, out, num_proc=config["num_proc"], progress=False)
        num_bytes, num_tokens = meta["num_bytes"], meta["num_tokens"]
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - start_cpu
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "seconds": seconds,
        "num_bytes": num_bytes,
        "num_tokens": num_tokens,
        "mb_per_s": num_bytes / 1e6 / seconds,
        "tokens_per_s": num_tokens / seconds,
        "cpu_seconds": cpu,
        "tokens_per_cpu_s": num_tokens / cpu,
        "peak_rss_mib": peak_self,
        "peak_worker_rss_mib": peak_children,
        "sha": hashlib.sha256(out.read_bytes()).hexdigest()[:12],
    }


def in_subprocess(config: dict, env: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--run", json.dumps(config)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"benchmark run {config} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--num-proc", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--vocab-size", type=int, default=4096)
    parser.add_argument("--scale", type=int, default=1, help="repeat each corpus this many times")
    parser.add_argument("--runs", default="loop,pack1,pack1-threads,packN", help="comma-separated run keys")
    parser.add_argument("--encoders", default="tokenizers,tiktoken", help="comma-separated: tokenizers, tiktoken")
    parser.add_argument("--tinystories", type=Path, default=TINYSTORIES, help="TinyStories text (skipped if absent)")
    parser.add_argument("--run", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        print(json.dumps(run_one(json.loads(args.run))))
        return

    from ailab.datasets import generate_builtin_corpus
    from ailab.datasets.sources import read_separated_text
    from ailab.tokenizers import BpeTokenizer

    all_runs = {
        "loop": ("loop (baseline): encode() per document", "loop", 1, {"TOKENIZERS_PARALLELISM": "false"}),
        "pack1": ("pack_documents, 1 proc, 1 thread", "pack", 1, {"TOKENIZERS_PARALLELISM": "false"}),
        "pack1-threads": ("pack_documents, 1 proc, Rust threads", "pack", 1, {"TOKENIZERS_PARALLELISM": "true"}),
        "packN": (f"pack_documents, {args.num_proc} procs", "pack", args.num_proc, {}),
    }
    runs = [all_runs[key] for key in args.runs.split(",")]
    encoders = args.encoders.split(",")
    if set(encoders) - {"tokenizers", "tiktoken"}:
        parser.error(f"--encoders takes tokenizers and/or tiktoken, got {args.encoders!r}")
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        builtin = scratch / "builtin.txt"
        stories = generate_builtin_corpus(6000, 0)
        builtin.write_text("".join(f"{story}\n<|endoftext|>\n" for story in stories), encoding="utf-8")
        sources = {"builtin (6,000 stories)": builtin}
        if args.tinystories.is_file():
            sources[f"TinyStories sample ({args.tinystories.name})"] = args.tinystories
        corpora = {}  # name -> (text the tokenizer is trained on, text that is packed)
        for name, path in sources.items():
            if args.scale == 1:
                corpora[name] = (path, path)
                continue
            scaled = scratch / f"scaled-{path.name}"
            with open(scaled, "wb") as f:
                for _ in range(args.scale):
                    f.write(path.read_bytes())
            corpora[f"{name} x{args.scale}"] = (path, scaled)
        print(
            "| corpus | run | encoder | MB/s of text | tokens/s | wall s | CPU s | tokens per CPU s | "
            "peak RSS MiB (main / worker) | wall speed-up vs tokenizers |"
        )
        print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for corpus_name, (training_text, corpus) in corpora.items():
            training_docs = read_separated_text([training_text], "<|endoftext|>")
            tokenizer = BpeTokenizer.train(training_docs, vocab_size=args.vocab_size)
            tokenizer.save(scratch / "tokenizer")
            hashes = set()
            for name, mode, num_proc, env in runs:
                baseline = None
                for encoder in encoders:
                    config = {
                        "tokenizer": str(scratch / "tokenizer"),
                        "corpus": str(corpus),
                        "mode": mode,
                        "num_proc": num_proc,
                        "encoder": encoder,
                        "out": str(scratch / "out.bin"),
                    }
                    run_env = {**env, "AILAB_TIKTOKEN": "1" if encoder == "tiktoken" else "0"}
                    repeats = (in_subprocess(config, run_env) for _ in range(args.repeats))
                    result = min(repeats, key=lambda r: r["seconds"])
                    hashes.add(result["sha"])
                    if encoder == "tokenizers":
                        baseline = result["seconds"]
                    speedup = f"{baseline / result['seconds']:.1f}x" if baseline else "-"
                    print(
                        f"| {corpus_name} | {name} | {encoder} | {result['mb_per_s']:.2f} | "
                        f"{result['tokens_per_s']:,.0f} | {result['seconds']:.2f} | {result['cpu_seconds']:.2f} | "
                        f"{result['tokens_per_cpu_s']:,.0f} | "
                        f"{result['peak_rss_mib']:.0f} / {result['peak_worker_rss_mib']:.0f} | {speedup} |",
                        flush=True,
                    )
            assert len(hashes) == 1, f"runs disagree on the packed tokens: {hashes}"
        print(
            f"\n{len(corpora)} corpora; every run (both encoders) produced the same token file per corpus; "
            f"vocab {args.vocab_size}."
        )


if __name__ == "__main__":
    main()
