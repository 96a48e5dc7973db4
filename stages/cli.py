"""The `ailab` console script: one command per DVC stage, plus tools to look at and export trained models."""

from __future__ import annotations

import typer

from stages import dump_corpus, evaluate, export_hf, generate, prepare, sample, train, train_tokenizer
from stages.options import DebugOption, enable_debug

app = typer.Typer(
    name="ailab",
    help="Train GPT-2 and LLaMA language models from scratch. Each pipeline stage is a command here; "
    "`dvc repro` runs them in order with the arguments in dvc.yaml.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def main(debug: DebugOption = False) -> None:
    """Options for every command: `ailab --debug COMMAND` shows the traceback of an error."""
    enable_debug(debug)


app.command("train-tokenizer")(train_tokenizer.main)
app.command("prepare")(prepare.main)
app.command("dump-corpus")(dump_corpus.main)
app.command("train")(train.main)
app.command("evaluate")(evaluate.main)
app.command("generate")(generate.main)
app.command("sample")(sample.sample)
app.command("export-hf")(export_hf.export_hf)
