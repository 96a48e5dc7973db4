import math

import pytest
import torch

from ailab.trainers.schedulers import LRScheduler, lr_at_step


def test_cosine_warmup_then_decay_at_exact_values():
    kw = dict(max_steps=11, warmup_steps=4, learning_rate=1.0, min_learning_rate=0.1)
    # warmup: (step + 1) / warmup_steps of the peak
    assert [lr_at_step(s, **kw) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    # decay from step 4 (peak) to step 10 (the last: min), progress = (step - 4) / 6
    assert lr_at_step(4, **kw) == 1.0
    assert lr_at_step(7, **kw) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)), abs=1e-15)
    assert lr_at_step(7, **kw) == pytest.approx(0.55)
    assert lr_at_step(10, **kw) == pytest.approx(0.1, abs=1e-15)
    assert lr_at_step(50, **kw) == pytest.approx(0.1, abs=1e-15)  # past the end: stays at the minimum


def test_linear_and_constant_schedules():
    kw = dict(max_steps=12, warmup_steps=1, learning_rate=2.0, min_learning_rate=0.0)
    assert lr_at_step(0, **kw, schedule="linear") == 2.0
    assert lr_at_step(1, **kw, schedule="linear") == 2.0
    assert lr_at_step(6, **kw, schedule="linear") == 1.0  # progress (6 - 1) / (12 - 1 - 1) = 0.5
    assert lr_at_step(11, **kw, schedule="linear") == 0.0
    assert [lr_at_step(s, **kw, schedule="constant") for s in (0, 5, 11)] == [2.0, 2.0, 2.0]


def test_no_warmup_starts_at_the_peak():
    assert lr_at_step(0, max_steps=5, warmup_steps=0, learning_rate=3e-4) == 3e-4


def test_scheduler_sets_every_group_and_round_trips_its_state():
    params = [torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(2, 2))]
    opt = torch.optim.AdamW([{"params": params[:1]}, {"params": params[1:]}], lr=123.0)
    sched = LRScheduler(opt, max_steps=10, warmup_steps=2, learning_rate=1.0)
    assert sched.apply() == 0.5 and [g["lr"] for g in opt.param_groups] == [0.5, 0.5]
    sched.step()
    sched.step()
    state = sched.state_dict()
    other = LRScheduler(opt, max_steps=10, warmup_steps=2, learning_rate=1.0)
    other.load_state_dict(state)
    assert other.apply() == sched.current_lr() == 1.0
