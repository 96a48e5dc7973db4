"""Stage `train_tokenizer`: train the tokenizer named in params on the training split."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import typer

from ailab.datasets import load_corpus
from ailab.io import atomic_directory, atomic_write_json
from ailab.tokenizers import FIXED_KINDS, train_tokenizer
from pipeline.params import load_params
from pipeline.paths import PipelinePaths
from pipeline.tracking import log_stats, stage_run
from stages.options import ParamsOption, reports_errors


@reports_errors
def main(params: ParamsOption = Path("params.yaml")) -> None:
    """Train the tokenizer (`tokenizer.kind`: bpe, ascii, sentencepiece or tinystories-bpe-8k) on the `data` corpus.

    `ascii` and `tinystories-bpe-8k` (pre-trained) have nothing to train: they are saved as they are.

    Writes artifacts/tokenizer/ and reports/tokenizer/stats.json, and logs an MLflow run.
    """
    config = load_params(params)
    paths = PipelinePaths()
    corpus = load_corpus(config.data.corpus_spec())
    texts = islice(corpus["train"], config.tokenizer.max_documents)
    if config.tokenizer.kind in FIXED_KINDS:
        typer.echo(f"saving the {config.tokenizer.kind} tokenizer (nothing to train) ...")
    else:
        typer.echo(f"training a {config.tokenizer.kind} tokenizer (vocab {config.tokenizer.vocab_size}) ...")
    tokenizer = train_tokenizer(config.tokenizer.kind, texts, config.tokenizer.vocab_size)
    sample = list(islice(iter(corpus["validation"]), 200))  # before the save: an empty split keeps the old tokenizer
    with atomic_directory(paths.tokenizer_dir) as tmp:
        tokenizer.save(tmp)

    ids = tokenizer.encode_batch(sample)
    n_tokens = sum(len(x) for x in ids)
    stats = {
        "kind": tokenizer.kind,
        "vocab_size": tokenizer.vocab_size,
        "fingerprint": tokenizer.fingerprint(),
        "validation_sample_documents": len(sample),
        "chars_per_token": sum(len(t) for t in sample) / max(n_tokens, 1),
        "bytes_per_token": sum(len(t.encode("utf-8")) for t in sample) / max(n_tokens, 1),
    }
    atomic_write_json(paths.tokenizer_report, stats)
    with stage_run("train_tokenizer", config, paths.root, sections=("data", "tokenizer")):
        log_stats(stats, "tokenizer/stats.json")
    typer.echo(
        f"tokenizer: {tokenizer.vocab_size} tokens, {stats['chars_per_token']:.2f} chars/token -> {paths.tokenizer_dir}"
    )


if __name__ == "__main__":
    typer.run(main)
