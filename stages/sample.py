"""`ailab sample MODEL_DIR`: stream a continuation of a prompt from any trained model, for a quick look."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ailab.device import resolve_device
from ailab.generation import TextGenStdoutStreamer, generate_text
from ailab.models import from_pretrained
from ailab.tokenizers import load_tokenizer
from stages.options import DeviceOption, reports_errors


class PromptThenContinuation(TextGenStdoutStreamer):
    """Prints the prompt as typed when generation starts (after `generate` checked every option), then the text."""

    def __init__(self, tokenizer, prompt: str):
        super().__init__(tokenizer)
        self.prompt: str | None = prompt  # None once printed

    def put(self, ids) -> None:
        if self.prompt is not None:
            print(self.prompt, end="", file=self.file, flush=True)
            self.prompt = None
        super().put(ids)


@reports_errors
def sample(
    model_dir: Annotated[
        Path,
        typer.Argument(help="A model directory with its tokenizer: artifacts/model or a checkpoint-STEP/ directory."),
    ],
    prompt: Annotated[str, typer.Option(help="Text to continue.")] = "Once upon a time",
    max_new_tokens: Annotated[int, typer.Option(help="Most tokens to generate (fewer at EOS).")] = 200,
    temperature: Annotated[float, typer.Option(help="Sampling temperature; 0 is greedy.")] = 0.8,
    top_k: Annotated[int | None, typer.Option(help="Sample only from the k most likely tokens.")] = None,
    top_p: Annotated[float | None, typer.Option(help="Nucleus sampling: top tokens holding this mass.")] = 0.9,
    seed: Annotated[int | None, typer.Option(help="Seed for a reproducible sample.")] = None,
    compile: Annotated[
        bool,
        typer.Option("--compile", help="Compile the one-token decode step (torch.compile; faster for long outputs)."),
    ] = False,
    device: DeviceOption = "auto",
) -> None:
    """Print the prompt, then the model's continuation as it is generated (no file written).

    Works on the final model (artifacts/model) and on any trainer checkpoint directory, which also hold
    config.json, model.safetensors and the tokenizer files.
    """
    target = resolve_device(device)
    model = from_pretrained(model_dir, device=target)
    tokenizer = load_tokenizer(model_dir)
    streamer = PromptThenContinuation(tokenizer, prompt)
    generate_text(
        model,
        tokenizer,
        prompt,
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        seed=seed,
        streamer=streamer,
        device=target,
        compile=compile,
    )
    if streamer.prompt is not None:  # nothing to generate (--max-new-tokens 0): the prompt alone
        typer.echo(prompt)


if __name__ == "__main__":
    typer.run(sample)
