"""KV cache update semantics (dynamic and static), crop and reset."""

import pytest
import torch

from ailab.generation.kv_cache import DynamicKVCache, StaticKVCache


def _kv(B=2, H=3, T=4, D=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, H, T, D, generator=g), torch.randn(B, H, T, D, generator=g)


def test_dynamic_cache_appends_per_layer():
    cache = DynamicKVCache()
    assert cache.get_seq_length() == 0
    k1, v1 = _kv(T=4, seed=1)
    k2, v2 = _kv(T=1, seed=2)
    for layer in range(2):
        K, V = cache.update(layer, k1, v1)
        assert torch.equal(K, k1) and torch.equal(V, v1)
    assert cache.get_seq_length() == 4
    K, V = cache.update(0, k2, v2)
    assert K.shape == (2, 3, 5, 5)
    assert torch.equal(K, torch.cat([k1, k2], dim=2)) and torch.equal(V, torch.cat([v1, v2], dim=2))
    assert cache.get_seq_length() == 5


def test_dynamic_cache_crop_and_reset():
    cache = DynamicKVCache()
    k, v = _kv(T=6)
    cache.update(0, k, v)
    cache.update(1, k, v)
    cache.crop(3)
    assert cache.get_seq_length() == 3
    assert torch.equal(cache.keys[1], k[:, :, :3])
    cache.crop(10)  # keeping more than is cached changes nothing
    assert cache.get_seq_length() == 3
    with pytest.raises(ValueError, match="n must be >= 0"):
        cache.crop(-1)
    cache.reset()
    assert cache.get_seq_length() == 0


def test_static_cache_writes_in_place_and_pads_with_zeros():
    cache = StaticKVCache(max_batch_size=2, max_seq_len=8)
    k1, v1 = _kv(T=3, seed=1)
    K, V = cache.update(0, k1, v1)
    buffer = cache.keys[0]
    assert K.shape == (2, 3, 8, 5)
    assert torch.equal(K[:, :, :3], k1) and torch.equal(V[:, :, :3], v1)
    assert torch.all(K[:, :, 3:] == 0)
    assert cache.get_seq_length() == 3
    k2, v2 = _kv(T=2, seed=2)
    K, _ = cache.update(0, k2, v2)
    assert cache.keys[0] is buffer  # same storage: no reallocation as the sequence grows
    assert torch.equal(K[:, :, 3:5], k2)
    assert cache.get_seq_length() == 5


def test_static_cache_writes_the_slots_a_cache_position_tensor_names():
    cache = StaticKVCache(max_batch_size=2, max_seq_len=8)
    k1, v1 = _kv(T=3, seed=1)
    K, V = cache.update(0, k1, v1, torch.arange(3))
    buffer = cache.keys[0]
    k2, v2 = _kv(T=1, seed=2)
    K, V = cache.update(0, k2, v2, torch.tensor([5]))  # any slot: the caller owns the positions
    assert cache.keys[0] is buffer and K.shape == (2, 3, 8, 5)
    assert torch.equal(K[:, :, :3], k1) and torch.equal(V[:, :, 5:6], v2)
    assert torch.all(K[:, :, 3:5] == 0) and torch.all(K[:, :, 6:] == 0)
    assert cache.get_seq_length() == 0  # slot writes are not counted on the host
    cache.crop(4)  # still zeroes every slot from 4 on
    assert torch.all(cache.keys[0][:, :, 4:] == 0) and torch.equal(cache.keys[0][:, :, :3], k1)
    with pytest.raises(ValueError, match="needs a StaticKVCache"):
        DynamicKVCache().update(0, k1, v1, torch.arange(3))


def test_static_cache_smaller_batch_dtype_and_errors():
    cache = StaticKVCache(max_batch_size=4, max_seq_len=4, dtype=torch.float64)
    k, v = _kv(B=2, T=3)
    K, _ = cache.update(0, k, v)
    assert K.shape == (2, 3, 4, 5) and K.dtype == torch.float64
    with pytest.raises(ValueError, match="larger max_seq_len"):
        cache.update(0, *_kv(B=2, T=2))
    with pytest.raises(ValueError, match="larger max_batch_size"):
        StaticKVCache(max_batch_size=1, max_seq_len=4).update(0, *_kv(B=2, T=1))
    with pytest.raises(ValueError, match="n_kv_heads=2"):
        StaticKVCache(max_batch_size=2, max_seq_len=4, n_kv_heads=2).update(0, *_kv(H=3, T=1))


def test_static_cache_crop_zeroes_dropped_slots_and_reset():
    cache = StaticKVCache(max_batch_size=2, max_seq_len=8, n_layers=2)
    k, v = _kv(T=6)
    cache.update(0, k, v)
    cache.update(1, k, v)
    cache.crop(2)
    assert cache.get_seq_length() == 2
    assert torch.all(cache.keys[1][:, :, 2:] == 0) and torch.equal(cache.keys[1][:, :, :2], k[:, :, :2])
    k2, v2 = _kv(T=1, seed=3)
    K, _ = cache.update(0, k2, v2)
    assert torch.equal(K[:, :, 2:3], k2)
    cache.reset()
    assert cache.get_seq_length() == 0 and torch.all(cache.keys[0] == 0)
    with pytest.raises(IndexError, match="2 layers"):
        cache.update(2, k, v)


# ---- the models through a cache: decoding token by token gives the logits of one full forward pass ----------------

from ailab.models import GPT2Config, LlamaConfig, build_model  # noqa: E402

MODELS = {"gpt2": dict(GPT2Config.presets["tiny"]), "llama": dict(LlamaConfig.presets["tiny"])}


def make_cache(kind, B, max_seq_len):
    return DynamicKVCache() if kind == "dynamic" else StaticKVCache(max_batch_size=B, max_seq_len=max_seq_len)


@pytest.fixture(scope="module", params=sorted(MODELS))
def model(request):
    torch.manual_seed(0)
    return build_model(request.param, **MODELS[request.param]).eval()


@pytest.mark.parametrize("kind", ["dynamic", "static"])
@torch.no_grad()
def test_token_by_token_equals_full_forward(model, kind):
    x = torch.randint(0, 512, (2, 10), generator=torch.Generator().manual_seed(1))
    full = model(x).logits
    cache = make_cache(kind, B=2, max_seq_len=16)
    out = model(x[:, :4], kv_cache=cache)  # prefill 4, then a chunk of 2, then one at a time
    assert out.kv_cache is cache and cache.get_seq_length() == 4
    steps = [out.logits, model(x[:, 4:6], kv_cache=cache).logits]
    steps += [model(x[:, t : t + 1], kv_cache=cache).logits for t in range(6, 10)]
    torch.testing.assert_close(torch.cat(steps, dim=1), full, atol=1e-5, rtol=1e-5)
    assert cache.get_seq_length() == 10


@pytest.mark.parametrize("kind", ["dynamic", "static"])
@torch.no_grad()
def test_left_padded_batch_through_the_cache_equals_each_row_alone(model, kind):
    g = torch.Generator().manual_seed(2)
    short, long = torch.randint(0, 512, (1, 3), generator=g), torch.randint(0, 512, (1, 6), generator=g)
    pad = 0
    prompts = torch.cat([torch.cat([torch.full((1, 3), pad), short], dim=1), long])  # (2, 6): row 0 left-padded
    mask = torch.tensor([[0, 0, 0, 1, 1, 1], [1] * 6])
    new = torch.randint(0, 512, (2, 3), generator=g)  # tokens "generated" next, fed one at a time

    cache = make_cache(kind, B=2, max_seq_len=12)
    steps = [model(prompts, attention_mask=mask, kv_cache=cache).logits[:, -1:]]
    for t in range(3):
        mask = torch.cat([mask, torch.ones(2, 1, dtype=torch.long)], dim=1)
        steps.append(model(new[:, t : t + 1], attention_mask=mask, kv_cache=cache).logits)
    batched = torch.cat(steps, dim=1)  # (2, 4, V): logits after the prompt and after each new token
    assert torch.isfinite(batched).all()

    for row, prompt in enumerate([short, long]):
        alone = model(torch.cat([prompt, new[row : row + 1]], dim=1)).logits[:, prompt.shape[1] - 1 :]
        torch.testing.assert_close(batched[row : row + 1], alone, atol=1e-5, rtol=1e-5)


@torch.no_grad()
def test_crop_rewinds_the_model_state(model):
    x = torch.randint(0, 512, (1, 8), generator=torch.Generator().manual_seed(3))
    for cache in (DynamicKVCache(), StaticKVCache(max_batch_size=1, max_seq_len=8)):
        model(x, kv_cache=cache)
        cache.crop(5)
        torch.testing.assert_close(model(x[:, 5:], kv_cache=cache).logits, model(x).logits[:, 5:], atol=1e-5, rtol=1e-5)


def test_mask_length_must_cover_cached_tokens(model):
    cache = DynamicKVCache()
    model(torch.zeros(1, 4, dtype=torch.long), kv_cache=cache)
    with pytest.raises(ValueError, match=r"\(1, 5\)"):
        model(torch.zeros(1, 1, dtype=torch.long), attention_mask=torch.ones(1, 1), kv_cache=cache)


@torch.no_grad()
def test_cache_position_path_equals_each_row_alone(model):
    """Slots, positions and mask all from one tensor: a padded batch prefilled at slots 0..5, then one token at a
    time at slot 6, 7, 8, with the padding mask covering every slot, gives each row's logits alone."""
    g = torch.Generator().manual_seed(2)
    short, long = torch.randint(0, 512, (1, 3), generator=g), torch.randint(0, 512, (1, 6), generator=g)
    prompts = torch.cat([torch.cat([torch.zeros(1, 3, dtype=torch.long), short], dim=1), long])
    mask = torch.ones(2, 12, dtype=torch.long)
    mask[0, :3] = 0
    new = torch.randint(0, 512, (2, 3), generator=g)
    cache = StaticKVCache(max_batch_size=2, max_seq_len=12)
    steps = [model(prompts, attention_mask=mask, kv_cache=cache, cache_position=torch.arange(6)).logits[:, -1:]]
    input_pos = torch.tensor([6])
    for t in range(3):
        steps.append(model(new[:, t : t + 1], attention_mask=mask, kv_cache=cache, cache_position=input_pos).logits)
        input_pos += 1
    batched = torch.cat(steps, dim=1)
    for row, prompt in enumerate([short, long]):
        alone = model(torch.cat([prompt, new[row : row + 1]], dim=1)).logits[:, prompt.shape[1] - 1 :]
        torch.testing.assert_close(batched[row : row + 1], alone, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="needs a StaticKVCache"):
        model(new[:, :1], kv_cache=DynamicKVCache(), cache_position=torch.tensor([0]))
    with pytest.raises(ValueError, match="one slot per new token"):
        model(new[:, :1], kv_cache=cache, cache_position=torch.tensor([0, 1]))
