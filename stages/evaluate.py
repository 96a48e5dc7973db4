"""Stage `evaluate`: validation loss, perplexity and bits per byte of the final model."""

from __future__ import annotations

from pathlib import Path

import typer

from ailab.datasets import PackedTokens
from ailab.evaluation import evaluate_language_model
from ailab.framing import DocumentFraming, check_same_framing
from ailab.io import atomic_write_json
from ailab.models import from_pretrained
from pipeline.lineage import adopt_reused_model
from pipeline.params import load_params
from pipeline.paths import PipelinePaths
from pipeline.tracking import log_final_metrics, stage_run
from stages.options import DeviceOption, ParamsOption, reports_errors


@reports_errors
def main(params: ParamsOption = Path("params.yaml"), device: DeviceOption = "auto") -> None:
    """Evaluate artifacts/model on the whole packed validation split (windows of the model's context, overlapping by
    one token: the computation behind the training curves' eval_loss).

    Writes reports/eval/metrics.json (val_loss, perplexity, bits_per_byte; `dvc metrics show` prints it) and logs the
    metrics into its MLflow run and the pipeline run.
    """
    config = load_params(params)
    paths = PipelinePaths()
    model = from_pretrained(paths.model_dir)
    validation = PackedTokens(paths.tokens("validation"))
    if validation.meta["vocab_size"] != model.config.vocab_size:
        raise ValueError(
            f"{paths.tokens('validation')} was packed for a vocabulary of {validation.meta['vocab_size']} tokens but "
            f"the model has {model.config.vocab_size}; rerun the pipeline (dvc repro) so both use the same tokenizer"
        )
    model_framing = DocumentFraming.load(paths.model_dir)
    check_same_framing(validation.framing, str(paths.tokens("validation")), model_framing, str(paths.model_dir))
    metrics = evaluate_language_model(
        model,
        validation.tokens,
        validation.meta["num_bytes"],
        window=model.config.n_ctx,
        batch_size=config.eval.batch_size,
        max_batches=config.eval.max_batches,
        device=device,
    )
    atomic_write_json(paths.eval_metrics, metrics)
    with stage_run("evaluate", config, paths.root, sections=("eval",)):
        adopt_reused_model(paths, config)
        log_final_metrics(metrics)
    typer.echo(
        f"val_loss {metrics['val_loss']:.4f}  perplexity {metrics['perplexity']:.2f}  "
        f"bits/byte {metrics['bits_per_byte']:.4f} -> {paths.eval_metrics}"
    )


if __name__ == "__main__":
    typer.run(main)
