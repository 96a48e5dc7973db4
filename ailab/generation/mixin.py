"""`GenerationMixin.generate`: checks arguments, builds processors, criteria and cache, then runs `generate_tokens`."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from ailab.token_ids import check_token_ids

from .decoding import GenerateOutput, compiled_decode_step, decode_one_token, generate_tokens
from .kv_cache import DynamicKVCache, StaticKVCache
from .logits_process import build_logits_processors
from .stopping import (
    EosTokenCriteria,
    MaxTimeCriteria,
    StoppingCriteria,
    StoppingCriteriaList,
    StopStringCriteria,
)
from .streamers import BaseStreamer

STATIC_CACHE_MULTIPLE = 64
"""A static cache's slots are rounded up to a multiple of this (within n_ctx): one compiled step serves every prompt
that rounds to the same size."""


class GenerationMixin:
    """Adds `generate()` to a causal language model called as `model(ids, attention_mask=, kv_cache=, position_ids=)`
    and whose `config` has `n_ctx`, `vocab_size` and `eos_token_id`."""

    @torch.no_grad()
    def generate(
        self,
        input_ids: Tensor,
        max_new_tokens: int = 100,
        do_sample: bool | None = None,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        min_p: float | None = None,
        repetition_penalty: float | None = None,
        use_cache: bool = True,
        cache: str | None = None,
        attention_mask: Tensor | None = None,
        stopping_criteria: Sequence[StoppingCriteria] | None = None,
        stop_strings: str | Sequence[str] | None = None,
        eos_token_id: int | Sequence[int] | None = None,
        streamer: BaseStreamer | None = None,
        generator: torch.Generator | None = None,
        return_logprobs: bool = False,
        tokenizer=None,
        pad_token_id: int | None = None,
        max_time: float | None = None,
        truncate_prompt: bool = False,
        compile: bool | str | dict[str, Any] = False,
        compile_decode_step: bool | str | dict[str, Any] = False,
    ) -> Tensor | GenerateOutput:
        """Continue each row of `input_ids` (B, T); return prompt + new ids (B, T + N) as a LongTensor.

        Sampling: `do_sample=None` samples unless `temperature == 0`; `temperature=0` or `do_sample=False` is greedy.
        Processors run in the order repetition penalty -> temperature -> top-k -> top-p -> min-p (greedy: penalty only).
        `generator` (a `torch.Generator` on the model's device) makes sampling reproducible.

        Batches: left-pad the prompts and pass `attention_mask` (1 = token, 0 = padding). A row stops at an EOS id
        (`eos_token_id`, default `model.config.eos_token_id`; an int or a list; `[]` never stops on EOS), at a stop
        string (needs `tokenizer`; the completing token is kept), by a custom `stopping_criteria`, or after `max_time`
        seconds; a stopped row is then filled with `pad_token_id` (default: tokenizer's pad id, else the first EOS id,
        else 0) until all rows stop.

        Context: a prompt longer than `n_ctx - 1` is an error unless `truncate_prompt=True`, which drops its leftmost
        tokens so that `max_new_tokens` fit; otherwise `max_new_tokens` is cut (with a warning) to end at `n_ctx`.

        `use_cache=False` recomputes the whole sequence each step (the reference for testing the caches); `cache` is
        "dynamic" (the default without compile) or "static": preallocated for T + max_new_tokens rounded up to a
        multiple of 64 (at most n_ctx), so prompts of nearby lengths share one compiled step.

        `compile=True` decodes with a static cache and the one-token step compiled by `torch.compile(fullgraph=True)`:
        one graph for the whole generation, on CUDA replayed as a CUDA graph (mode "reduce-overhead"); the prompt is
        prefilled uncompiled. A string picks the torch.compile mode, a dict gives torch.compile's arguments
        (`{"backend": "eager"}`). Greedy tokens equal the uncompiled ones. `compile_decode_step` is the older name.
        `return_logprobs=True` returns a `GenerateOutput(sequences, logprobs)` — log-probabilities under the
        processed distribution.
        """
        model_device = next(self.parameters()).device
        input_ids, attention_mask = _check_prompt(input_ids, attention_mask, self.config.vocab_size, model_device)
        _check_int("max_new_tokens", max_new_tokens, minimum=0)
        if not (isinstance(temperature, (int, float)) and temperature >= 0):
            raise ValueError(f"temperature must be a number >= 0 (0 = greedy), got {temperature!r}")
        compile = compile or compile_decode_step
        if not isinstance(compile, (bool, str, dict)):
            raise ValueError(
                f"compile must be a bool, a torch.compile mode or a dict of its arguments; got {compile!r}"
            )
        if cache is None:
            cache = "static" if compile else "dynamic"
        if cache not in ("dynamic", "static"):
            raise ValueError(f'cache must be "dynamic" or "static", got {cache!r}')
        if compile and (cache != "static" or not use_cache):
            raise ValueError(
                "compile=True decodes through a static cache (fixed shapes); drop cache= / use_cache=False or compile"
            )
        if stop_strings is not None and tokenizer is None:
            raise ValueError("stop_strings are checked on decoded text: pass tokenizer= as well")
        if streamer is not None and input_ids.size(0) != 1:
            raise ValueError(f"streaming supports batch size 1 only; got a batch of {input_ids.size(0)} prompts")

        input_ids, attention_mask, max_new_tokens = _fit_context(
            input_ids, attention_mask, max_new_tokens, self.config.n_ctx, truncate_prompt
        )
        if attention_mask is not None and bool(attention_mask.all()):
            attention_mask = None  # no padding: the model can take its fast causal path

        sample = (True if do_sample is None else bool(do_sample)) and temperature > 0
        processors = build_logits_processors(
            do_sample=sample,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            min_p=min_p,
            repetition_penalty=repetition_penalty,
        )
        eos_ids = _eos_ids(self.config.eos_token_id if eos_token_id is None else eos_token_id)
        criteria = StoppingCriteriaList(stopping_criteria or [])
        if eos_ids:
            criteria.append(EosTokenCriteria(eos_ids))
        if stop_strings is not None:
            criteria.append(StopStringCriteria(tokenizer, stop_strings))
        if max_time is not None:
            criteria.append(MaxTimeCriteria(max_time))
        if pad_token_id is None:
            tokenizer_pad = getattr(tokenizer, "pad_token_id", None)
            pad_token_id = tokenizer_pad if tokenizer_pad is not None else (eos_ids[0] if eos_ids else 0)
        vocab_size = self.config.vocab_size
        if isinstance(pad_token_id, bool) or not isinstance(pad_token_id, int) or not 0 <= pad_token_id < vocab_size:
            raise ValueError(f"pad_token_id must be a token id in [0, {vocab_size}), got {pad_token_id!r}")

        B, T = input_ids.shape
        kv_cache = None
        if use_cache:
            slots = min(self.config.n_ctx, -(-(T + max_new_tokens) // STATIC_CACHE_MULTIPLE) * STATIC_CACHE_MULTIPLE)
            kv_cache = DynamicKVCache() if cache == "dynamic" else StaticKVCache(B, slots)
        decode_step = compiled_decode_step(compile, model_device) if compile else decode_one_token

        return generate_tokens(
            self,
            input_ids,
            max_new_tokens=max_new_tokens,
            processors=processors,
            do_sample=sample,
            stopping_criteria=criteria,
            pad_token_id=pad_token_id,
            attention_mask=attention_mask,
            kv_cache=kv_cache,
            generator=generator,
            streamer=streamer,
            return_logprobs=return_logprobs,
            decode_step=decode_step,
        )


def _check_int(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")


def _check_prompt(
    input_ids: Tensor, attention_mask: Tensor | None, vocab_size: int, device: torch.device
) -> tuple[Tensor, Tensor | None]:
    """Check shapes, dtypes, ids, device and padding side of the prompt batch."""
    if not isinstance(input_ids, Tensor) or input_ids.dim() != 2 or input_ids.size(1) == 0:
        shape = tuple(input_ids.shape) if isinstance(input_ids, Tensor) else type(input_ids).__name__
        raise ValueError(
            f"input_ids must be a (batch, seq_len) LongTensor with seq_len >= 1, got {shape}; "
            "for one prompt use ids[None] or tokenizer.encode(text, return_tensors='pt')"
        )
    if input_ids.dtype != torch.long:
        raise ValueError(f"input_ids must be torch.long token ids, got {input_ids.dtype}")
    if input_ids.device != device:
        raise ValueError(f"input_ids are on {input_ids.device} but the model is on {device}; move them with .to()")
    check_token_ids(input_ids, vocab_size)
    if attention_mask is None:
        return input_ids, None
    if attention_mask.shape != input_ids.shape:
        raise ValueError(
            f"attention_mask must have the shape of input_ids {tuple(input_ids.shape)}, "
            f"got {tuple(attention_mask.shape)}"
        )
    attention_mask = attention_mask.to(device=device, dtype=torch.long)
    if not bool(((attention_mask == 0) | (attention_mask == 1)).all()):
        raise ValueError("attention_mask must hold only 0 (padding) and 1 (token)")
    if not bool(attention_mask[:, -1].all()):
        raise ValueError(
            "every row of attention_mask must end with a token (1): generation needs left padding (padding_side='left')"
        )
    if bool((attention_mask[:, 1:] < attention_mask[:, :-1]).any()):
        raise ValueError("attention_mask has padding after a token; pad on the left only (padding_side='left')")
    return input_ids, attention_mask


def _fit_context(
    input_ids: Tensor, attention_mask: Tensor | None, max_new_tokens: int, n_ctx: int, truncate_prompt: bool
) -> tuple[Tensor, Tensor | None, int]:
    """Make prompt + new tokens fit in `n_ctx`: error, left-truncate the prompt, or cut `max_new_tokens`."""
    T = input_ids.size(1)
    if T + max_new_tokens <= n_ctx:
        return input_ids, attention_mask, max_new_tokens
    if truncate_prompt:
        if max_new_tokens >= n_ctx:
            raise ValueError(f"max_new_tokens={max_new_tokens} leaves no room for a prompt in n_ctx={n_ctx}; lower it")
        keep = n_ctx - max_new_tokens
        input_ids = input_ids[:, -keep:]
        attention_mask = attention_mask[:, -keep:] if attention_mask is not None else None
        if attention_mask is not None and not bool(attention_mask.any(dim=1).all()):
            raise ValueError(f"after truncating the prompts to their last {keep} positions a row holds only padding")
        return input_ids, attention_mask, max_new_tokens
    if T >= n_ctx:
        raise ValueError(
            f"the prompt has {T} tokens but the model's context is n_ctx={n_ctx}, leaving no room for new tokens; "
            "shorten the prompt or pass truncate_prompt=True to keep only its last tokens"
        )
    warnings.warn(
        f"prompt ({T} tokens) + max_new_tokens ({max_new_tokens}) exceeds n_ctx={n_ctx}; "
        f"generating at most {n_ctx - T} new tokens",
        stacklevel=3,
    )
    return input_ids, attention_mask, n_ctx - T


def _eos_ids(eos_token_id: int | Sequence[int] | None) -> list[int]:
    if eos_token_id is None:
        return []
    return [eos_token_id] if isinstance(eos_token_id, int) else list(eos_token_id)
