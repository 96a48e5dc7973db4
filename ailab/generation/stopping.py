"""Stopping criteria: after each new token, say which rows of the batch are done.

A criterion is called as `criterion(input_ids, num_new_tokens)` with the sequences so far (B, T), prompt and new
tokens, and how many of their last columns are new; it returns a bool tensor (B,), True for the rows that must stop.
`generate` ORs the criteria together; a row that is done keeps receiving padding until every row is done.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

import torch
from torch import Tensor


class StoppingCriteria:
    """Decides, row by row, whether generation must stop after the latest token."""

    reads_host_tokens: bool = False
    """True for a criterion that copies the tokens to the host at each call (a sync anyway): the loop then checks
    for the end after every token instead of every `STOP_CHECK_INTERVAL` tokens."""

    def __call__(self, input_ids: Tensor, num_new_tokens: int) -> Tensor:
        raise NotImplementedError


class StoppingCriteriaList(list):
    """Stop a row as soon as any criterion in the list says so."""

    def __call__(self, input_ids: Tensor, num_new_tokens: int) -> Tensor:
        done = torch.zeros(input_ids.size(0), dtype=torch.bool, device=input_ids.device)
        for criterion in self:
            done |= criterion(input_ids, num_new_tokens)
        return done


class MaxNewTokensCriteria(StoppingCriteria):
    """Stop every row once `max_new_tokens` tokens have been generated."""

    def __init__(self, max_new_tokens: int):
        if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 0:
            raise ValueError(f"max_new_tokens must be an int >= 0, got {max_new_tokens!r}")
        self.max_new_tokens = max_new_tokens

    def __call__(self, input_ids: Tensor, num_new_tokens: int) -> Tensor:
        return torch.full((input_ids.size(0),), num_new_tokens >= self.max_new_tokens, device=input_ids.device)


class EosTokenCriteria(StoppingCriteria):
    """Stop a row whose latest token is one of the end-of-sequence ids."""

    def __init__(self, eos_token_id: int | Sequence[int]):
        ids = [eos_token_id] if isinstance(eos_token_id, int) else list(eos_token_id)
        if not ids or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in ids):
            raise ValueError(f"eos_token_id must be an int >= 0 or a non-empty list of them, got {eos_token_id!r}")
        self.eos_token_ids = torch.tensor(ids, dtype=torch.long)

    def __call__(self, input_ids: Tensor, num_new_tokens: int) -> Tensor:
        if self.eos_token_ids.device != input_ids.device:
            self.eos_token_ids = self.eos_token_ids.to(input_ids.device)
        return torch.isin(input_ids[:, -1], self.eos_token_ids)


class MaxTimeCriteria(StoppingCriteria):
    """Stop every row once `max_time` seconds have passed since `start_time` (default: when the criterion was made)."""

    def __init__(self, max_time: float, start_time: float | None = None):
        if not max_time > 0:
            raise ValueError(f"max_time must be a positive number of seconds, got {max_time!r}")
        self.max_time = float(max_time)
        self.start_time = time.monotonic() if start_time is None else start_time

    def __call__(self, input_ids: Tensor, num_new_tokens: int) -> Tensor:
        expired = time.monotonic() - self.start_time > self.max_time
        return torch.full((input_ids.size(0),), expired, device=input_ids.device)


class StopStringCriteria(StoppingCriteria):
    """Stop a row when the decoded text of its new tokens contains one of `stop_strings`.

    It is checked after every token, so a row stops at the token that completes the stop string; that token stays in the
    returned ids (a token may hold the end of the stop string and more); `generate_text` cuts the text before it.
    Only a window of the latest tokens is decoded (enough to hold the longest stop string even at one byte per token),
    so the check costs the same at every step.
    """

    reads_host_tokens = True

    def __init__(self, tokenizer, stop_strings: str | Iterable[str]):
        strings = [stop_strings] if isinstance(stop_strings, str) else list(stop_strings)
        if not strings or not all(isinstance(s, str) and s for s in strings):
            raise ValueError(f"stop_strings must be a non-empty string or a list of them, got {stop_strings!r}")
        self.tokenizer = tokenizer
        self.stop_strings = strings
        # A UTF-8 character is at most 4 bytes and a token at least one byte; a few extra tokens of left context keep
        # decoders that drop a leading space (sentencepiece) from cutting into the stop string.
        self.window = 4 * max(len(s) for s in strings) + 8

    def __call__(self, input_ids: Tensor, num_new_tokens: int) -> Tensor:
        start = input_ids.size(1) - min(num_new_tokens, self.window)
        tails = input_ids[:, start:].tolist()
        done = [any(s in self.tokenizer.decode(ids) for s in self.stop_strings) for ids in tails]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


def truncate_at_stop_string(text: str, stop_strings: Iterable[str]) -> str:
    """`text` up to (not including) the earliest occurrence of any stop string; unchanged if there is none."""
    cut = min((i for i in (text.find(s) for s in stop_strings) if i >= 0), default=len(text))
    return text[:cut]
