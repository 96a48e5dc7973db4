"""`generate_text`: prompt string in, new text out — the one call behind `ailab sample` and the `generate` stage."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ailab.framing import prompt_ids

from .stopping import truncate_at_stop_string
from .streamers import BaseStreamer, decode_continuation


def generate_text(
    model,
    tokenizer,
    prompt: str,
    *,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int | None = None,
    streamer: BaseStreamer | None = None,
    stop_strings: str | Sequence[str] | None = None,
    device: str | torch.device | None = None,
    compile: bool = False,
) -> str:
    """Continue `prompt` and return only the new text (the prompt is not repeated).

    The prompt starts as the model's training documents started: after the separator of `tokenizer.framing` (the
    previous document's EOS, then BOS when the corpus was packed with `add_bos`); with no recorded framing, after the
    tokenizer's BOS when it has one (see `ailab.framing.prompt_ids`). `temperature=0` is greedy; `seed` makes sampling
    reproducible. Generation stops at the model's EOS or at a stop string, which is cut from the returned text (with
    anything after it in the same token). `device` defaults to the model's; the model is put in eval mode.
    `compile=True` decodes with the compiled one-token step (see `generate(compile=True)`).
    """
    if not isinstance(prompt, str):
        raise ValueError(f"prompt must be a string, got {type(prompt).__name__}")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.to(device).eval()
    ids = prompt_ids(tokenizer, prompt)
    if not ids:
        raise ValueError("the prompt encodes to no tokens and the tokenizer has no BOS token to start from")
    input_ids = torch.tensor([ids], dtype=torch.long, device=device)
    generator = None
    if seed is not None:
        generator = torch.Generator(device=device).manual_seed(seed)
    sequences = model.generate(
        input_ids,
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        generator=generator,
        streamer=streamer,
        stop_strings=stop_strings,
        tokenizer=tokenizer,
        compile=compile,
    )
    text = decode_continuation(tokenizer, ids, sequences[0, input_ids.size(1) :].tolist())
    if stop_strings is not None:
        text = truncate_at_stop_string(text, [stop_strings] if isinstance(stop_strings, str) else stop_strings)
    return text
