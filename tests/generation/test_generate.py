"""model.generate on both architectures: caches agree with full recomputation, batches with single prompts,
samplers with greedy where they must, seeds reproduce, rows stop on their own EOS, n_ctx is enforced."""

import pytest
import torch

from ailab.generation import (
    GenerateOutput,
    MaxNewTokensCriteria,
    StaticKVCache,
    StoppingCriteria,
    StoppingCriteriaList,
    build_logits_processors,
    decode_one_token,
    generate_tokens,
)

from .conftest import ARCHS, make_model

PROMPTS = [[5, 17, 42, 8, 90, 3, 11], [7, 7, 23], [64, 2, 31, 50, 9]]


def left_padded(prompts: list[list[int]], pad: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(p) for p in prompts)
    ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts])
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
    return ids, mask


@pytest.fixture(scope="module", params=ARCHS)
def model(request):
    return make_model(request.param)


def test_greedy_cache_equals_recomputation_for_64_tokens(model):
    ids = torch.tensor(PROMPTS[:1])
    reference = model.generate(ids, max_new_tokens=64, do_sample=False, use_cache=False, eos_token_id=[])
    dynamic = model.generate(ids, max_new_tokens=64, do_sample=False, cache="dynamic", eos_token_id=[])
    static = model.generate(ids, max_new_tokens=64, do_sample=False, cache="static", eos_token_id=[])
    assert reference.shape == (1, len(PROMPTS[0]) + 64)
    assert len(set(reference[0, 7:].tolist())) > 3  # a real continuation, not one repeated token
    assert torch.equal(dynamic, reference)
    assert torch.equal(static, reference)


def test_left_padded_batch_equals_each_prompt_alone(model):
    ids, mask = left_padded(PROMPTS)
    alone = [model.generate(torch.tensor([p]), max_new_tokens=40, do_sample=False, eos_token_id=[]) for p in PROMPTS]
    for cache in ("dynamic", "static"):
        batch = model.generate(
            ids, attention_mask=mask, max_new_tokens=40, do_sample=False, cache=cache, eos_token_id=[]
        )
        for row, prompt in enumerate(PROMPTS):
            assert torch.equal(batch[row, ids.size(1) :], alone[row][0, len(prompt) :]), (cache, row)
    no_cache = model.generate(
        ids, attention_mask=mask, max_new_tokens=40, do_sample=False, use_cache=False, eos_token_id=[]
    )
    assert torch.equal(no_cache, batch)


def test_top_k_1_and_tiny_top_p_equal_greedy(model):
    ids = torch.tensor(PROMPTS[:1])
    greedy = model.generate(ids, max_new_tokens=30, temperature=0, eos_token_id=[])
    assert torch.equal(model.generate(ids, max_new_tokens=30, do_sample=False, eos_token_id=[]), greedy)
    gen = torch.Generator().manual_seed(0)
    assert torch.equal(model.generate(ids, max_new_tokens=30, top_k=1, generator=gen, eos_token_id=[]), greedy)
    assert torch.equal(model.generate(ids, max_new_tokens=30, top_p=1e-6, generator=gen, eos_token_id=[]), greedy)
    assert torch.equal(model.generate(ids, max_new_tokens=30, min_p=1.0, generator=gen, eos_token_id=[]), greedy)


def test_same_seed_same_sample_different_seed_different(model):
    ids, mask = left_padded(PROMPTS)
    settings = dict(attention_mask=mask, max_new_tokens=40, temperature=1.5, top_k=50, top_p=0.95, eos_token_id=[])

    def sample(seed):
        return model.generate(ids, generator=torch.Generator().manual_seed(seed), **settings)

    first, again, other = sample(1), sample(1), sample(2)
    assert torch.equal(first, again)
    assert not torch.equal(first, other)
    greedy_settings = {k: v for k, v in settings.items() if k != "temperature"}
    assert not torch.equal(first, model.generate(ids, do_sample=False, **greedy_settings))


def test_logprobs_are_log_softmax_of_the_processed_scores(model):
    ids = torch.tensor(PROMPTS[:1])
    out = model.generate(ids, max_new_tokens=12, do_sample=False, return_logprobs=True, eos_token_id=[])
    assert isinstance(out, GenerateOutput) and out.logprobs.shape == (1, 12)
    logits = model(out.sequences).logits[0, ids.size(1) - 1 : -1]  # logits that chose each new token
    expected = logits.log_softmax(-1).gather(1, out.sequences[0, ids.size(1) :, None]).squeeze(1)
    torch.testing.assert_close(out.logprobs[0], expected, rtol=1e-4, atol=1e-4)
    sampled = model.generate(
        ids,
        max_new_tokens=12,
        temperature=0.5,
        return_logprobs=True,
        eos_token_id=[],
        generator=torch.Generator().manual_seed(0),
    )
    scaled = (model(sampled.sequences).logits[0, ids.size(1) - 1 : -1] / 0.5).log_softmax(-1)
    torch.testing.assert_close(
        sampled.logprobs[0], scaled.gather(1, sampled.sequences[0, ids.size(1) :, None])[:, 0], rtol=1e-4, atol=1e-4
    )


def test_each_row_stops_at_its_own_eos_and_is_padded(model):
    ids, mask = left_padded(PROMPTS)
    T = ids.size(1)
    free = model.generate(ids, attention_mask=mask, max_new_tokens=30, do_sample=False, eos_token_id=[])
    eos = int(free[0, T + 3])  # row 0 makes this token at its 4th step
    stopped = model.generate(
        ids, attention_mask=mask, max_new_tokens=30, do_sample=False, eos_token_id=[eos, 95], pad_token_id=94
    )
    ends = []
    for row in range(len(PROMPTS)):
        new = free[row, T:].tolist()
        ends.append(next((i + 1 for i, t in enumerate(new) if t in (eos, 95)), len(new)))
    assert stopped.size(1) == T + max(ends)
    for row, end in enumerate(ends):
        assert stopped[row, T : T + end].tolist() == free[row, T : T + end].tolist()
        assert set(stopped[row, T + end :].tolist()) <= {94}
    assert ends[0] == 4


def test_eos_defaults_to_config_and_stops_generation():
    model = make_model("llama", eos_token_id=None)
    ids = torch.tensor(PROMPTS[:1])
    free = model.generate(ids, max_new_tokens=20, do_sample=False)
    model.config.eos_token_id = int(free[0, len(PROMPTS[0]) + 5])
    stopped = model.generate(ids, max_new_tokens=20, do_sample=False)
    first = free[0, len(PROMPTS[0]) :].tolist().index(model.config.eos_token_id)
    assert stopped.size(1) == len(PROMPTS[0]) + first + 1


def test_custom_stopping_criteria_and_time_limit(model):
    ids = torch.tensor(PROMPTS[:1])
    five = model.generate(ids, max_new_tokens=20, stopping_criteria=[MaxNewTokensCriteria(5)], eos_token_id=[])
    assert five.size(1) == 7 + 5
    one = model.generate(ids, max_new_tokens=20, max_time=1e-9, eos_token_id=[])
    assert one.size(1) == 7 + 1  # one token, then the time is up

    def sample(**kw):
        generator = torch.Generator().manual_seed(3)
        return model.generate(ids, max_new_tokens=30, temperature=2.0, eos_token_id=[], generator=generator, **kw)

    free = sample()
    stop_token = int(free[0, 7 + 4])
    first = free[0, 7:].tolist().index(stop_token)

    class StopAfterToken(StoppingCriteria):
        def __call__(self, input_ids, num_new_tokens):
            return input_ids[:, -1] == stop_token

    assert torch.equal(sample(stopping_criteria=[StopAfterToken()]), free[:, : 7 + first + 1])


def test_context_limit_is_never_exceeded_silently():
    model = make_model("gpt2")
    n_ctx = model.config.n_ctx
    too_long = torch.arange(n_ctx).remainder(90)[None]
    with pytest.raises(ValueError, match="truncate_prompt=True"):
        model.generate(too_long, max_new_tokens=5)
    truncated = model.generate(too_long, max_new_tokens=5, do_sample=False, truncate_prompt=True, eos_token_id=[])
    alone = model.generate(too_long[:, -(n_ctx - 5) :], max_new_tokens=5, do_sample=False, eos_token_id=[])
    assert truncated.size(1) == n_ctx and torch.equal(truncated, alone)
    with pytest.warns(UserWarning, match="at most 6 new tokens"):
        clamped = model.generate(too_long[:, : n_ctx - 6], max_new_tokens=50, do_sample=False, eos_token_id=[])
    assert clamped.size(1) == n_ctx


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(input_ids=torch.tensor([1, 2, 3])), "batch, seq_len"),
        (dict(input_ids=torch.tensor([[1.0, 2.0]])), "torch.long"),
        (dict(input_ids=torch.tensor([[1, 500]])), r"token id 500 in input_ids .*\(vocab_size=96, ids 0..95\)"),
        (dict(input_ids=torch.tensor([[-1, 2]]), compile_decode_step=True), r"token id -1 in input_ids .*=96"),
        (dict(attention_mask=torch.tensor([[1, 1, 0]])), "left padding"),
        (dict(attention_mask=torch.tensor([[1, 0, 1]])), "left only"),
        (dict(attention_mask=torch.tensor([[1, 1]])), "shape of input_ids"),
        (dict(cache="paged"), "dynamic"),
        (dict(temperature=-1.0), "temperature"),
        (dict(top_p=2.0), "top_p"),
        (dict(max_new_tokens=-1), "max_new_tokens"),
        (dict(stop_strings=["x"]), "tokenizer"),
        (dict(pad_token_id=96), "pad_token_id"),
        (dict(eos_token_id=-3), "eos_token_id"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, message):
    model = make_model("gpt2")
    kwargs = {"input_ids": torch.tensor([[1, 2, 3]]), **kwargs}
    with pytest.raises(ValueError, match=message):
        model.generate(**kwargs)


def test_zero_new_tokens_returns_the_prompt():
    model = make_model("gpt2")
    ids = torch.tensor(PROMPTS[:1])
    assert torch.equal(model.generate(ids, max_new_tokens=0), ids)


def test_a_compiled_decode_step_gives_the_same_tokens():
    """The one-token step traces under torch.compile (eager backend here: no C++ toolchain or minutes of inductor on
    CPU); `compile_decode_step="reduce-overhead"` compiles the same function with inductor and CUDA graphs."""
    model = make_model("llama")
    ids = torch.tensor(PROMPTS[:1])
    expected = model.generate(ids, max_new_tokens=6, do_sample=False, cache="static", eos_token_id=[])
    with torch.no_grad():
        out = generate_tokens(
            model,
            ids,
            max_new_tokens=6,
            processors=build_logits_processors(do_sample=False),
            do_sample=False,
            stopping_criteria=StoppingCriteriaList(),
            pad_token_id=0,
            kv_cache=StaticKVCache(1, ids.size(1) + 6),
            decode_step=torch.compile(decode_one_token, backend="eager"),
        )
    assert torch.equal(out, expected)
