"""Decoding as a chain of small functions: logits -> scores -> next token; prefill; decode one token; the loop.

Nothing here holds state between calls except the KV cache passed in, so the one-token step is compiled from outside
(`compiled_decode_step` is what `generate(compile=True)` uses):

    step = torch.compile(decode_one_token, fullgraph=True, dynamic=False, mode="reduce-overhead")
    generate_tokens(model, ids, ..., kv_cache=StaticKVCache(B, S), decode_step=step)

With a static cache, one `input_pos` tensor (1,) holds the cache slot of the new token and is advanced in place; the
attention mask covers all S slots. Every step then has the same shapes and the same graph: compiled once for a whole
generation (once per batch size and cache size), replayed on CUDA as one CUDA graph. The prompt is prefilled
uncompiled (its length changes from call to call). The loop writes into buffers allocated once.

Host round-trips: sampling and the stopping criteria run on the device; the host reads whether every row has stopped
only every `stop_check_interval` tokens (`STOP_CHECK_INTERVAL`) and once at the end, unless something reads each
token on the host anyway (a streamer, stop strings), where it checks after every token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from .kv_cache import KVCache
from .logits_process import LogitsProcessorList
from .stopping import StoppingCriteriaList
from .streamers import BaseStreamer

STOP_CHECK_INTERVAL = 8
"""Tokens between two host reads of "has every row stopped?". Rows that stop in between get padding and the extra
steps' tokens are cut off, so the result is the same as checking after every token; it costs at most this many
steps of wasted work once the last row has stopped."""


@dataclass
class GenerateOutput:
    """`sequences`: (B, T_prompt + N) prompt and new ids; `logprobs`: (B, N) float32 log-probability of each new token
    under the distribution it was chosen from (after the logits processors; 0.0 for the padding of finished rows)."""

    sequences: Tensor
    logprobs: Tensor


def choose_next_token(
    logits: Tensor,
    input_ids: Tensor,
    processors: LogitsProcessorList,
    do_sample: bool,
    generator: torch.Generator | None,
) -> tuple[Tensor, Tensor]:
    """Next token (B,) from last-position logits (B, V), and the processed scores (B, V, float32) it was drawn from."""
    scores = processors(input_ids, logits.float())
    if do_sample:
        probs = scores.softmax(dim=-1)
        next_tokens = torch.multinomial(probs, num_samples=1, generator=generator).squeeze(1)
    else:
        next_tokens = scores.argmax(dim=-1)
    return next_tokens, scores


def prefill(
    model,
    input_ids: Tensor,
    kv_cache: KVCache | None,
    attention_mask: Tensor | None = None,
    position_ids: Tensor | None = None,
    cache_position: Tensor | None = None,
) -> Tensor:
    """Run the whole prompt (B, T) through the model, filling `kv_cache`; return the last position's logits (B, V)."""
    out = model(
        input_ids,
        attention_mask=attention_mask,
        kv_cache=kv_cache,
        position_ids=position_ids,
        cache_position=cache_position,
    )
    return out.logits[:, -1]


def decode_one_token(
    model, token: Tensor, kv_cache: KVCache, input_pos: Tensor, attention_mask: Tensor | None = None
) -> Tensor:
    """Run one new token per row (B, 1) into slot `input_pos` (1,) of a static `kv_cache`; return its logits (B, V).

    `attention_mask` (B, max_seq_len) marks left padding over every slot of the cache (None: no padding). All shapes
    are fixed for a generation and the position is a tensor, so a compiled step is never recompiled across positions.
    """
    out = model(token, attention_mask=attention_mask, kv_cache=kv_cache, cache_position=input_pos)
    return out.logits[:, -1]


def compiled_decode_step(options: bool | str | dict[str, Any] = True, device: torch.device | None = None) -> Callable:
    """`decode_one_token` under `torch.compile(fullgraph=True, dynamic=False)`.

    `options`: True compiles with inductor, and on a CUDA `device` with mode "reduce-overhead" (CUDA graphs); a string
    is a torch.compile mode; a dict gives torch.compile's keyword arguments (e.g. `{"backend": "eager"}`).
    """
    kwargs: dict[str, Any] = {"fullgraph": True, "dynamic": False}
    if isinstance(options, dict):
        kwargs.update(options)
    elif isinstance(options, str):
        kwargs["mode"] = options
    elif device is not None and device.type == "cuda":
        kwargs["mode"] = "reduce-overhead"
    try:
        return torch.compile(decode_one_token, **kwargs)
    except RuntimeError as err:  # torch.compile's own check of `mode`
        raise ValueError(f"compile={options!r} is not a torch.compile mode or its arguments: {err}") from err


def generate_tokens(
    model,
    input_ids: Tensor,
    *,
    max_new_tokens: int,
    processors: LogitsProcessorList,
    do_sample: bool,
    stopping_criteria: StoppingCriteriaList,
    pad_token_id: int,
    attention_mask: Tensor | None = None,
    kv_cache: KVCache | None = None,
    generator: torch.Generator | None = None,
    streamer: BaseStreamer | None = None,
    return_logprobs: bool = False,
    decode_step: Callable = decode_one_token,
    stop_check_interval: int = STOP_CHECK_INTERVAL,
) -> Tensor | GenerateOutput:
    """Append up to `max_new_tokens` tokens to each row of `input_ids` (B, T); arguments are assumed already checked.

    `attention_mask` (B, T) marks left padding (None: no padding). With `kv_cache` the prompt is prefilled once and
    each step runs one token (`decode_step`, called as `decode_one_token`, with a static cache: fresh, of at least
    T + max_new_tokens - 1 slots); with `kv_cache=None` every step recomputes the whole sequence (the slow reference).
    A row stops when `stopping_criteria` says so and then receives `pad_token_id`; the loop ends when all rows have
    stopped (seen by the host every `stop_check_interval` tokens), so the result may hold fewer than `max_new_tokens`
    new columns.
    """
    B, T = input_ids.shape
    device = input_ids.device
    if max_new_tokens == 0:
        empty = torch.zeros(B, 0, dtype=torch.float32, device=device)
        return GenerateOutput(sequences=input_ids, logprobs=empty) if return_logprobs else input_ids
    static = kv_cache is not None and kv_cache.is_static
    if static and kv_cache.max_seq_len < T + max_new_tokens - 1:
        raise ValueError(
            f"the StaticKVCache holds {kv_cache.max_seq_len} slots but the prompt ({T}) and max_new_tokens "
            f"({max_new_tokens}) need {T + max_new_tokens - 1}; build it with a larger max_seq_len"
        )
    sequences = input_ids.new_empty(B, T + max_new_tokens)
    sequences[:, :T] = input_ids
    logprobs = torch.zeros(B, max_new_tokens, dtype=torch.float32, device=device) if return_logprobs else None
    unfinished = torch.ones(B, dtype=torch.bool, device=device)
    steps_unfinished = torch.zeros((), dtype=torch.long, device=device)  # steps after which some row had not stopped
    mask = None
    if attention_mask is not None:
        mask = attention_mask.new_ones(B, kv_cache.max_seq_len if static else T + max_new_tokens)  # new tokens: 1
        mask[:, :T] = attention_mask

    if streamer is not None:
        streamer.put(input_ids.cpu())
    if static:
        input_pos = torch.arange(T, device=device)  # cache slots of the prompt
        logits = prefill(model, input_ids, kv_cache, mask, cache_position=input_pos)
        input_pos = input_pos[-1:] + 1  # (1,): the next token's slot, advanced in place
    else:
        logits = prefill(model, input_ids, kv_cache, attention_mask)

    if streamer is not None or any(getattr(c, "reads_host_tokens", False) for c in stopping_criteria):
        stop_check_interval = 1  # the host sees every token anyway: stop as soon as every row has
    for step in range(max_new_tokens):
        cur = T + step
        next_tokens, scores = choose_next_token(logits, sequences[:, :cur], processors, do_sample, generator)
        next_tokens = torch.where(unfinished, next_tokens, pad_token_id)
        sequences[:, cur] = next_tokens
        if logprobs is not None:
            chosen = scores.log_softmax(dim=-1).gather(1, next_tokens[:, None]).squeeze(1)
            logprobs[:, step] = chosen.masked_fill(~unfinished, 0.0)
        if streamer is not None:
            streamer.put(next_tokens.cpu())
        if stopping_criteria:
            unfinished &= ~stopping_criteria(sequences[:, : cur + 1], step + 1)
            steps_unfinished += unfinished.any()
            if (step + 1) % stop_check_interval == 0 and not unfinished.any():
                break
        if step + 1 == max_new_tokens:
            break

        if static:
            if device.type == "cuda":  # the previous step's outputs are consumed (costs ~0.5 ms a call elsewhere)
                torch.compiler.cudagraph_mark_step_begin()
            logits = decode_step(model, sequences[:, cur : cur + 1], kv_cache, input_pos, mask)
            input_pos += 1
        else:
            new = sequences[:, cur : cur + 1] if kv_cache is not None else sequences[:, : cur + 1]
            logits = prefill(model, new, kv_cache, mask[:, : cur + 1] if mask is not None else None)

    if streamer is not None:
        streamer.end()
    num_new = min(max_new_tokens, 1 + int(steps_unfinished)) if stopping_criteria else max_new_tokens
    sequences = sequences[:, : T + num_new]
    if logprobs is not None:
        return GenerateOutput(sequences=sequences, logprobs=logprobs[:, :num_new])
    return sequences
