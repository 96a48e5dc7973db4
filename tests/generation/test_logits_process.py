"""Logits processors: exact values on hand-made scores, and agreement with transformers' processors."""

import math

import pytest
import torch
from transformers.generation import logits_process as hf

from ailab.generation import (
    MinPLogitsWarper,
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
    build_logits_processors,
)

INF = float("-inf")
NO_IDS = torch.zeros(1, 0, dtype=torch.long)


def log_probs(*probs: float) -> torch.Tensor:
    return torch.tensor([[math.log(p) for p in probs]])


def test_temperature_divides_scores():
    out = TemperatureLogitsWarper(2.0)(NO_IDS, torch.tensor([[1.0, 2.0, -3.0]]))
    assert out.tolist() == [[0.5, 1.0, -1.5]]


def test_top_k_keeps_k_best_and_ties():
    out = TopKLogitsWarper(2)(NO_IDS, torch.tensor([[1.0, 3.0, 2.0, 0.0]]))
    assert out.tolist() == [[INF, 3.0, 2.0, INF]]
    tied = TopKLogitsWarper(1)(NO_IDS, torch.tensor([[5.0, 1.0, 5.0]]))
    assert tied.tolist() == [[5.0, INF, 5.0]]
    assert TopKLogitsWarper(10)(NO_IDS, torch.tensor([[1.0, 2.0]])).tolist() == [[1.0, 2.0]]


def test_top_p_keeps_smallest_nucleus():
    scores = log_probs(0.5, 0.3, 0.15, 0.05)
    keep = lambda p: torch.isfinite(TopPLogitsWarper(p)(NO_IDS, scores))[0].tolist()  # noqa: E731
    assert keep(0.75) == [True, True, False, False]  # 0.5 + 0.3 reaches 0.75
    assert keep(0.9) == [True, True, True, False]
    assert keep(0.4) == [True, False, False, False]
    assert keep(1e-9) == [True, False, False, False]  # always keeps the best token
    assert keep(1.0) == [True, True, True, True]


def test_min_p_scales_with_top_probability():
    scores = log_probs(0.5, 0.3, 0.15, 0.05)
    out = MinPLogitsWarper(0.25)(NO_IDS, scores)  # threshold 0.125
    assert torch.isfinite(out)[0].tolist() == [True, True, True, False]
    assert torch.equal(out[0, :3], scores[0, :3])


def test_repetition_penalty_divides_positive_multiplies_negative():
    scores = torch.tensor([[2.0, -2.0, 1.0, 0.5]])
    out = RepetitionPenaltyLogitsProcessor(2.0)(torch.tensor([[0, 1, 1]]), scores)
    assert out.tolist() == [[1.0, -4.0, 1.0, 0.5]]


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (TemperatureLogitsWarper(0.7), hf.TemperatureLogitsWarper(0.7)),
        (TopKLogitsWarper(5), hf.TopKLogitsWarper(5)),
        (TopPLogitsWarper(0.8), hf.TopPLogitsWarper(0.8)),
        (MinPLogitsWarper(0.1), hf.MinPLogitsWarper(0.1)),
        (RepetitionPenaltyLogitsProcessor(1.3), hf.RepetitionPenaltyLogitsProcessor(1.3)),
    ],
)
def test_matches_transformers_processors(ours, theirs):
    gen = torch.Generator().manual_seed(0)
    scores = torch.randn(4, 50, generator=gen) * 3
    input_ids = torch.randint(0, 50, (4, 7), generator=gen)
    torch.testing.assert_close(ours(input_ids, scores.clone()), theirs(input_ids, scores.clone()), rtol=0, atol=0)


def test_build_order_is_documented_order():
    processors = build_logits_processors(
        do_sample=True, temperature=0.5, top_k=3, top_p=0.9, min_p=0.1, repetition_penalty=1.2
    )
    assert [type(p) for p in processors] == [
        RepetitionPenaltyLogitsProcessor,
        TemperatureLogitsWarper,
        TopKLogitsWarper,
        TopPLogitsWarper,
        MinPLogitsWarper,
    ]
    greedy = build_logits_processors(do_sample=False, temperature=0.5, top_k=3, repetition_penalty=1.2)
    assert [type(p) for p in greedy] == [RepetitionPenaltyLogitsProcessor]
    assert len(build_logits_processors(do_sample=True, temperature=1.0, top_p=1.0, min_p=0.0)) == 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"top_k": 0}, "top_k"),
        ({"top_p": 0.0}, "top_p"),
        ({"top_p": 1.5}, "top_p"),
        ({"min_p": -0.1}, "min_p"),
        ({"repetition_penalty": 0.0}, "repetition_penalty"),
        ({"temperature": -1.0}, "temperature"),
    ],
)
def test_bad_settings_are_rejected_even_for_greedy(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_logits_processors(do_sample=True, **kwargs)
    if "temperature" not in kwargs:
        with pytest.raises(ValueError, match=message):
            build_logits_processors(do_sample=False, **kwargs)
