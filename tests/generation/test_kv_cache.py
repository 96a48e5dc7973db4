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
