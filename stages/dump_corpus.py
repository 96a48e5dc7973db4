"""Stage `dump_corpus`: human-readable dumps, statistics and plots of the packed training corpus."""

from __future__ import annotations

from pathlib import Path

import typer

from ailab.datasets import write_corpus_report
from ailab.tokenizers import load_tokenizer
from pipeline.params import load_params
from pipeline.paths import PipelinePaths
from pipeline.tracking import log_artifacts, log_stats, stage_run
from stages.options import ParamsOption, reports_errors


@reports_errors
def main(params: ParamsOption = Path("params.yaml")) -> None:
    """Decode the first packed windows (special tokens and document boundaries visible) and compute corpus statistics.

    Writes reports/corpus/ (dump.txt, stats.json, document length and token frequency plots) and logs them to MLflow.
    """
    config = load_params(params)
    paths = PipelinePaths()
    tokenizer = load_tokenizer(paths.tokenizer_dir)
    stats = write_corpus_report(
        paths.tokens("train"),
        tokenizer,
        paths.corpus_report_dir,
        num_windows=config.corpus.dump_windows,
        window=config.corpus.dump_window_length,
    )
    with stage_run("dump_corpus", config, paths.root, sections=("corpus",)):
        log_stats({k: v for k, v in stats.items() if k != "top_tokens"}, "corpus/stats_summary.json")
        log_artifacts(paths.corpus_report_dir, "corpus")
    typer.echo(f"corpus report -> {paths.corpus_report_dir}")


if __name__ == "__main__":
    typer.run(main)
