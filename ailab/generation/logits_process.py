"""Samplers as composable logits processors: each maps `(input_ids, scores)` to new scores.

`build_logits_processors` chains them in one fixed, documented order — the order `transformers` uses:

    repetition penalty -> temperature -> top-k -> top-p -> min-p

Filtered tokens get a score of -inf, so a softmax of the result gives them probability exactly 0.
Greedy decoding uses only the repetition penalty (the warpers do not change the argmax, except to break exact ties).
"""

from __future__ import annotations

import torch
from torch import Tensor


class LogitsProcessor:
    """Maps next-token scores (B, V) to new scores, given the tokens so far (B, T)."""

    def __call__(self, input_ids: Tensor, scores: Tensor) -> Tensor:
        raise NotImplementedError


class LogitsProcessorList(list):
    """A list of logits processors applied one after the other."""

    def __call__(self, input_ids: Tensor, scores: Tensor) -> Tensor:
        for processor in self:
            scores = processor(input_ids, scores)
        return scores


class RepetitionPenaltyLogitsProcessor(LogitsProcessor):
    """Penalise every token already in `input_ids` (CTRL, Keskar et al. 2019): scores > 0 / penalty, < 0 * penalty.

    As in `transformers`, every id in `input_ids` counts, padding included; ids >= vocab size are ignored.
    """

    def __init__(self, penalty: float):
        if not penalty > 0:
            raise ValueError(f"repetition_penalty must be > 0 (1.0 = no penalty), got {penalty}")
        self.penalty = float(penalty)

    def __call__(self, input_ids: Tensor, scores: Tensor) -> Tensor:
        vocab_size = scores.size(-1)
        padded = torch.nn.functional.pad(scores, (0, 1))  # column V absorbs out-of-vocabulary ids
        ids = input_ids.clamp(max=vocab_size)
        seen = torch.gather(padded, 1, ids)
        seen = torch.where(seen < 0, seen * self.penalty, seen / self.penalty)
        return padded.scatter(1, ids, seen)[:, :vocab_size]


class TemperatureLogitsWarper(LogitsProcessor):
    """Divide the scores by `temperature` (> 0): below 1 sharpens the distribution, above 1 flattens it."""

    def __init__(self, temperature: float):
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0 for sampling (use greedy decoding for 0), got {temperature}")
        self.temperature = float(temperature)

    def __call__(self, input_ids: Tensor, scores: Tensor) -> Tensor:
        return scores / self.temperature


class TopKLogitsWarper(LogitsProcessor):
    """Keep the `top_k` highest scores (and any tied with the k-th); set the rest to -inf."""

    def __init__(self, top_k: int):
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
            raise ValueError(f"top_k must be an int >= 1, got {top_k!r}")
        self.top_k = top_k

    def __call__(self, input_ids: Tensor, scores: Tensor) -> Tensor:
        k = min(self.top_k, scores.size(-1))
        kth_best = torch.topk(scores, k, dim=-1).values[:, -1:]
        return scores.masked_fill(scores < kth_best, float("-inf"))


class TopPLogitsWarper(LogitsProcessor):
    """Nucleus sampling (Holtzman et al. 2019): keep the fewest most likely tokens whose probability reaches `top_p`.

    The most likely token is always kept, so `top_p` near 0 is greedy.
    """

    def __init__(self, top_p: float):
        if not 0 < top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {top_p}")
        self.top_p = float(top_p)

    def __call__(self, input_ids: Tensor, scores: Tensor) -> Tensor:
        sorted_scores, sorted_indices = torch.sort(scores, dim=-1, descending=False)
        cumulative = sorted_scores.softmax(dim=-1).cumsum(dim=-1)
        sorted_remove = cumulative <= 1 - self.top_p  # the low tail holding at most 1 - top_p of the mass
        sorted_remove[:, -1] = False
        remove = sorted_remove.scatter(1, sorted_indices, sorted_remove)
        return scores.masked_fill(remove, float("-inf"))


class MinPLogitsWarper(LogitsProcessor):
    """Keep the tokens whose probability is at least `min_p` times the top token's probability (Nguyen et al. 2024)."""

    def __init__(self, min_p: float):
        if not 0 <= min_p <= 1:
            raise ValueError(f"min_p must be in [0, 1], got {min_p}")
        self.min_p = float(min_p)

    def __call__(self, input_ids: Tensor, scores: Tensor) -> Tensor:
        probs = scores.softmax(dim=-1)
        threshold = self.min_p * probs.amax(dim=-1, keepdim=True)
        return scores.masked_fill(probs < threshold, float("-inf"))


def build_logits_processors(
    *,
    do_sample: bool,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    min_p: float | None = None,
    repetition_penalty: float | None = None,
) -> LogitsProcessorList:
    """The processors for these settings, in the documented order; no-ops (temperature 1, top_p 1...) are left out.

    For greedy decoding (`do_sample=False`) only the repetition penalty applies.
    """
    # Build every processor first so that each setting is validated, even one greedy decoding does not use.
    penalty = None if repetition_penalty is None else RepetitionPenaltyLogitsProcessor(repetition_penalty)
    scale = TemperatureLogitsWarper(temperature) if do_sample and temperature != 1.0 else None
    top_k_warper = None if top_k is None else TopKLogitsWarper(top_k)
    top_p_warper = None if top_p is None else TopPLogitsWarper(top_p)
    min_p_warper = None if min_p is None else MinPLogitsWarper(min_p)

    processors = LogitsProcessorList()
    if penalty is not None and penalty.penalty != 1.0:
        processors.append(penalty)
    if not do_sample:
        return processors
    if scale is not None:
        processors.append(scale)
    if top_k_warper is not None:
        processors.append(top_k_warper)
    if top_p_warper is not None and top_p_warper.top_p < 1.0:
        processors.append(top_p_warper)
    if min_p_warper is not None and min_p_warper.min_p > 0.0:
        processors.append(min_p_warper)
    return processors
