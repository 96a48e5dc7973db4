"""Stage `prepare`: tokenize the corpus in parallel and pack each split into one memory-mapped token file."""

from __future__ import annotations

from pathlib import Path

import typer

from ailab.datasets import load_corpus, pack_documents
from ailab.io import atomic_directory, atomic_write_json
from ailab.tokenizers import load_tokenizer
from pipeline.params import load_params
from pipeline.paths import SPLITS, PipelinePaths
from pipeline.tracking import log_stats, stage_run
from stages.options import ParamsOption, reports_errors


@reports_errors
def main(params: ParamsOption = Path("params.yaml")) -> None:
    """Tokenize the `data` corpus with artifacts/tokenizer, in parallel, and pack each split into one token file.

    Writes artifacts/corpus/{train,validation}.bin, each with a JSON sidecar (dtype, vocab size, tokenizer
    fingerprint, token/document/byte counts, document framing: BOS/EOS placement), and reports/prepare/stats.json;
    logs an MLflow run.
    """
    config = load_params(params)
    paths = PipelinePaths()
    tokenizer = load_tokenizer(paths.tokenizer_dir)
    corpus = load_corpus(config.data.corpus_spec())
    sidecars = {}
    with atomic_directory(paths.corpus_dir) as tmp:
        for split in SPLITS:
            sidecars[split] = pack_documents(
                corpus[split],
                tokenizer,
                tmp / paths.tokens(split).name,
                num_proc=config.corpus.num_proc,
                add_bos=config.corpus.add_bos,
            )
    atomic_write_json(paths.prepare_report, sidecars)
    with stage_run("prepare", config, paths.root, sections=("data", "corpus")):
        log_stats(sidecars, "corpus/prepare_stats.json")
    for split, meta in sidecars.items():
        typer.echo(
            f"{split}: {meta['num_documents']:,} documents, {meta['num_tokens']:,} tokens -> {paths.tokens(split)}"
        )


if __name__ == "__main__":
    typer.run(main)
