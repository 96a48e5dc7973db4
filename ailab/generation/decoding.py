"""Decoding as a chain of small functions: logits -> scores -> next token; prefill; decode one token; the loop.

Nothing here holds state between calls except the KV cache passed in, so a step can be compiled from outside:

    step = torch.compile(decode_one_token, mode="reduce-overhead")
    generate_tokens(model, ids, ..., decode_step=step)

The loop writes into buffers allocated once (sequences, attention mask, positions): a decode step allocates nothing
but what the model itself allocates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from .kv_cache import KVCache
from .logits_process import LogitsProcessorList
from .stopping import StoppingCriteriaList
from .streamers import BaseStreamer


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


def positions_from_mask(attention_mask: Tensor) -> Tensor:
    """Position ids (B, S) that skip left padding: cumsum(mask) - 1, clamped at 0 on the padding."""
    return (attention_mask.long().cumsum(-1) - 1).clamp(min=0)


def prefill(
    model, input_ids: Tensor, kv_cache: KVCache | None, attention_mask: Tensor | None, position_ids: Tensor | None
) -> Tensor:
    """Run the whole prompt (B, T) through the model, filling `kv_cache`; return the last position's logits (B, V)."""
    out = model(input_ids, attention_mask=attention_mask, kv_cache=kv_cache, position_ids=position_ids)
    return out.logits[:, -1]


def decode_one_token(
    model, token: Tensor, kv_cache: KVCache, attention_mask: Tensor | None, position_ids: Tensor | None
) -> Tensor:
    """Run one new token per row (B, 1) on top of `kv_cache`; return its logits (B, V)."""
    out = model(token, attention_mask=attention_mask, kv_cache=kv_cache, position_ids=position_ids)
    return out.logits[:, -1]


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
) -> Tensor | GenerateOutput:
    """Append up to `max_new_tokens` tokens to each row of `input_ids` (B, T); arguments are assumed already checked.

    `attention_mask` (B, T) marks left padding (None: no padding). With `kv_cache` the prompt is prefilled once and
    each step runs one token; with `kv_cache=None` every step recomputes the whole sequence (the slow reference).
    A row stops when `stopping_criteria` says so and then receives `pad_token_id`; the loop ends when all rows have
    stopped, so the result may hold fewer than `max_new_tokens` new columns.
    """
    B, T = input_ids.shape
    device = input_ids.device
    if max_new_tokens == 0:
        empty = torch.zeros(B, 0, dtype=torch.float32, device=device)
        return GenerateOutput(sequences=input_ids, logprobs=empty) if return_logprobs else input_ids
    sequences = input_ids.new_empty(B, T + max_new_tokens)
    sequences[:, :T] = input_ids
    logprobs = torch.zeros(B, max_new_tokens, dtype=torch.float32, device=device) if return_logprobs else None
    unfinished = torch.ones(B, dtype=torch.bool, device=device)
    if attention_mask is not None:
        mask = attention_mask.new_ones(B, T + max_new_tokens)  # new tokens are real tokens: extended by 1 per step
        mask[:, :T] = attention_mask
        positions = positions_from_mask(attention_mask)
        next_position = positions[:, -1:] + 1  # (B, 1), advanced in place
    else:
        mask = positions = next_position = None

    if streamer is not None:
        streamer.put(input_ids.cpu())
    if kv_cache is not None:
        logits = prefill(model, input_ids, kv_cache, attention_mask, positions)
    else:
        logits = model(input_ids, attention_mask=attention_mask, position_ids=positions).logits[:, -1]

    num_new = 0
    while True:
        cur = T + num_new
        next_tokens, scores = choose_next_token(logits, sequences[:, :cur], processors, do_sample, generator)
        next_tokens = torch.where(unfinished, next_tokens, pad_token_id)
        sequences[:, cur] = next_tokens
        if logprobs is not None:
            chosen = scores.log_softmax(dim=-1).gather(1, next_tokens[:, None]).squeeze(1)
            logprobs[:, num_new] = chosen.masked_fill(~unfinished, 0.0)
        if streamer is not None:
            streamer.put(next_tokens.cpu())
        num_new += 1
        unfinished &= ~stopping_criteria(sequences[:, : cur + 1], num_new)
        if num_new == max_new_tokens or not unfinished.any():
            break

        mask_now = mask[:, : cur + 1] if mask is not None else None
        if kv_cache is not None:
            logits = decode_step(model, sequences[:, cur : cur + 1], kv_cache, mask_now, next_position)
            if next_position is not None:
                next_position += 1
        else:
            full_positions = positions_from_mask(mask_now) if mask_now is not None else None
            out = model(sequences[:, : cur + 1], attention_mask=mask_now, position_ids=full_positions)
            logits = out.logits[:, -1]

    if streamer is not None:
        streamer.end()
    sequences = sequences[:, : T + num_new]
    if logprobs is not None:
        return GenerateOutput(sequences=sequences, logprobs=logprobs[:, :num_new])
    return sequences
