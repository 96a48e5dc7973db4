"""generate(compile=True): the one-token step compiled with fullgraph=True gives the uncompiled tokens, on both
architectures, for one prompt and a left-padded batch, and is compiled once for a whole generation.

Inductor takes minutes per graph on this shared 2-core CPU, so these tests compile with the "aot_eager" backend:
Dynamo must capture the whole step as one graph (fullgraph=True fails on any break, a Python-int position would
recompile it at each step) and AOTAutograd must functionalize its in-place cache writes, which is what Inductor then
turns into code. The `ailab sample --compile` test runs Inductor itself on a one-layer model.
"""

import pytest
import torch
from torch._dynamo.utils import counters

from ailab.generation import STOP_CHECK_INTERVAL, StoppingCriteria

from .conftest import ARCHS, make_model
from .test_generate import PROMPTS, left_padded

AOT_EAGER = {"backend": "aot_eager"}


@pytest.fixture(scope="module", params=ARCHS)
def model(request):
    return make_model(request.param)


def compiled_graphs() -> int:
    return counters["stats"]["unique_graphs"]


def test_compiled_greedy_equals_uncompiled_single_prompt(model):
    ids = torch.tensor(PROMPTS[:1])
    eager = model.generate(ids, max_new_tokens=40, do_sample=False, eos_token_id=[])
    compiled = model.generate(ids, max_new_tokens=40, do_sample=False, eos_token_id=[], compile=AOT_EAGER)
    assert len(set(eager[0, ids.size(1) :].tolist())) > 3  # a real continuation, not one repeated token
    assert torch.equal(compiled, eager)


def test_compiled_greedy_equals_uncompiled_left_padded_batch(model):
    ids, mask = left_padded(PROMPTS)
    settings = dict(attention_mask=mask, max_new_tokens=40, do_sample=False, eos_token_id=[])
    eager = model.generate(ids, **settings)
    assert torch.equal(model.generate(ids, compile=AOT_EAGER, **settings), eager)
    assert torch.equal(model.generate(ids, use_cache=False, **settings), eager)


def test_generating_64_tokens_after_a_warm_up_adds_no_compilation(model):
    torch._dynamo.reset()
    counters.clear()
    ids = torch.tensor(PROMPTS[:1])
    model.generate(ids, max_new_tokens=64, do_sample=False, eos_token_id=[], compile=AOT_EAGER)
    assert compiled_graphs() == 1  # one graph served all 63 decode steps of the warm-up
    other = torch.tensor([[9, 4, 77, 12, 60, 1, 33]])  # same shapes, other tokens: same graph
    out = model.generate(other, max_new_tokens=64, do_sample=False, eos_token_id=[], compile=AOT_EAGER)
    assert out.shape == (1, 7 + 64)
    assert compiled_graphs() == 1
    assert not counters["recompiles"]


def test_compiled_sampling_with_every_processor_reproduces_and_stops_each_row(model):
    ids, mask = left_padded(PROMPTS)
    settings = dict(attention_mask=mask, max_new_tokens=30, temperature=0.9, top_k=40, top_p=0.95, min_p=0.01)
    settings.update(repetition_penalty=1.2, eos_token_id=[])

    def sample(**kw):
        return model.generate(ids, generator=torch.Generator().manual_seed(4), **settings, **kw)

    eager, compiled = sample(cache="static"), sample(compile=AOT_EAGER)
    assert torch.equal(compiled, sample(compile=AOT_EAGER))
    assert torch.equal(compiled, eager)  # same logits up to rounding, so here the same draws
    eos = int(eager[0, ids.size(1) + 2])
    stopped = model.generate(
        ids,
        generator=torch.Generator().manual_seed(4),
        compile=AOT_EAGER,
        pad_token_id=0,
        **dict(settings, eos_token_id=eos),
    )
    row0 = stopped[0, ids.size(1) :].tolist()
    assert row0[: row0.index(eos) + 1] == eager[0, ids.size(1) : ids.size(1) + row0.index(eos) + 1].tolist()


class CountCalls(StoppingCriteria):
    """Stops every row after `stop_after` tokens and counts how often the loop asked."""

    def __init__(self, stop_after: int):
        self.stop_after, self.calls = stop_after, 0

    def __call__(self, input_ids, num_new_tokens):
        self.calls += 1
        return torch.full((input_ids.size(0),), num_new_tokens >= self.stop_after)


def test_the_host_checks_for_the_end_every_interval_and_the_result_does_not_change(model):
    ids = torch.tensor(PROMPTS[:1])
    criterion = CountCalls(stop_after=3)
    out = model.generate(ids, max_new_tokens=30, do_sample=False, eos_token_id=[], stopping_criteria=[criterion])
    assert out.size(1) == 7 + 3  # cut at the stop, as if checked after every token
    assert criterion.calls == STOP_CHECK_INTERVAL  # the loop went on on the device until the host looked
    free = model.generate(ids, max_new_tokens=3, do_sample=False, eos_token_id=[])
    assert torch.equal(out, free)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(compile=True, cache="dynamic"), "static cache"),
        (dict(compile=True, use_cache=False), "static cache"),
        (dict(compile="fastest"), "torch.compile mode"),
        (dict(compile=3), "torch.compile mode"),
    ],
)
def test_bad_compile_arguments_raise_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_model("gpt2").generate(torch.tensor([[1, 2, 3]]), max_new_tokens=2, **kwargs)
