"""`ailab export-hf MODEL_DIR OUT_DIR`: write a trained model (and its tokenizer) in Hugging Face transformers form."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ailab.models import from_pretrained
from ailab.models.hf import export_hf as export_model
from ailab.tokenizers import load_tokenizer
from ailab.tokenizers.base import MARKER_FILE
from stages.options import reports_errors


@reports_errors
def export_hf(
    model_dir: Annotated[
        Path, typer.Argument(help="An ailab model directory (config.json + model.safetensors), e.g. artifacts/model.")
    ],
    out_dir: Annotated[
        Path, typer.Argument(help="Where to write the transformers checkpoint (replaced if it exists).")
    ],
) -> None:
    """Export an ailab model to a directory that transformers' AutoModelForCausalLM.from_pretrained loads.

    GPT-2 becomes GPT2LMHeadModel and LLaMA LlamaForCausalLM (safetensors). The tokenizer saved beside the model,
    if any, is exported as a PreTrainedTokenizerFast where it converts.
    """
    model = from_pretrained(model_dir)
    tokenizer = None
    if (model_dir / MARKER_FILE).is_file():
        tokenizer = load_tokenizer(model_dir)
    else:
        typer.echo(f"no tokenizer in {model_dir} ({MARKER_FILE} missing): exporting the model only")
    export_model(model, out_dir, tokenizer=tokenizer)
    typer.echo(f"wrote {type(model).__name__} as a transformers checkpoint to {out_dir}")
