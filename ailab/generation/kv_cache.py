"""Key/value caches for incremental decoding, passed into a model's `forward` as `kv_cache=`.

Each attention layer calls `cache.update(layer_idx, k, v, cache_position)` with the keys and values of the new tokens
and attends over what it returns. Without `cache_position` the model reads `cache.get_seq_length()` once at the start
of its forward pass to place the new tokens (position ids, causal mask); with it (a static cache only, gpt-fast's
`input_pos`) the slots come from that tensor and nothing is read on the host, so a compiled step has one graph for
every position. The cache itself knows nothing about masks.

- `DynamicKVCache` grows by concatenation: simple, no size to choose, but every step allocates.
- `StaticKVCache` preallocates `max_seq_len` slots and writes new keys in place (as gpt-fast does): fixed shapes, so
  a compiled decode step is not recompiled as the sequence grows. Attention then sees all `max_seq_len` slots; the
  ones not yet written are masked out by the model.

Grouped-query models store only their `n_kv_heads` heads here; heads are repeated after `update`, inside attention.
"""

from __future__ import annotations

import torch
from torch import Tensor


class KVCache:
    """Interface every cache implements; tensors are (B, n_kv_heads, T, head_dim)."""

    is_static: bool = False
    max_seq_len: int | None = None

    def update(
        self, layer_idx: int, k: Tensor, v: Tensor, cache_position: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """Store `k`, `v` (B, n_kv_heads, T, head_dim) for `layer_idx`, after the tokens already cached or, given
        `cache_position` (T,) (static caches only), in those slots; return the keys/values attention must see."""
        raise NotImplementedError

    def get_seq_length(self) -> int:
        """Number of tokens already cached (read from layer 0)."""
        raise NotImplementedError

    def reset(self) -> None:
        """Forget every cached token (keeps allocated buffers where there are any)."""
        raise NotImplementedError

    def crop(self, n: int) -> None:
        """Keep only the first `n` cached positions (no-op when fewer are cached)."""
        raise NotImplementedError


def _check_kv(layer_idx: int, k: Tensor, v: Tensor) -> None:
    if k.dim() != 4 or k.shape != v.shape:
        raise ValueError(
            f"KV cache update for layer {layer_idx} needs k and v of the same shape (B, n_kv_heads, T, head_dim); "
            f"got k {tuple(k.shape)} and v {tuple(v.shape)}"
        )


def _check_crop(n: int) -> None:
    if n < 0:
        raise ValueError(f"crop(n) keeps the first n positions, so n must be >= 0; got {n}")


class DynamicKVCache(KVCache):
    """A cache that grows with `torch.cat`; each layer's tensors are created on its first update."""

    def __init__(self) -> None:
        self.keys: list[Tensor | None] = []
        self.values: list[Tensor | None] = []

    def update(
        self, layer_idx: int, k: Tensor, v: Tensor, cache_position: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        _check_kv(layer_idx, k, v)
        if cache_position is not None:
            raise ValueError("DynamicKVCache appends: cache_position (explicit write slots) needs a StaticKVCache")
        while len(self.keys) <= layer_idx:
            self.keys.append(None)
            self.values.append(None)
        if self.keys[layer_idx] is None:
            self.keys[layer_idx], self.values[layer_idx] = k, v
        else:
            self.keys[layer_idx] = torch.cat([self.keys[layer_idx], k], dim=2)  # (B, H_kv, past + T, D)
            self.values[layer_idx] = torch.cat([self.values[layer_idx], v], dim=2)
        return self.keys[layer_idx], self.values[layer_idx]

    def get_seq_length(self) -> int:
        if not self.keys or self.keys[0] is None:
            return 0
        return self.keys[0].shape[2]

    def reset(self) -> None:
        self.keys, self.values = [], []

    def crop(self, n: int) -> None:
        _check_crop(n)
        for i, k in enumerate(self.keys):
            if k is not None and k.shape[2] > n:
                self.keys[i] = k[:, :, :n]
                self.values[i] = self.values[i][:, :, :n]

    def __len__(self) -> int:
        return self.get_seq_length()


class StaticKVCache(KVCache):
    """A cache of `max_seq_len` preallocated slots per layer, written in place by position.

    Writes go after the tokens already cached (counted by `get_seq_length()`, as the dynamic cache does) or, given
    `cache_position`, into those slots with `index_copy_`: no host-side state changes, so one compiled step serves every
    position. The caller then owns the positions (as in gpt-fast): `get_seq_length()` does not count those writes.
    Buffers are allocated at each layer's first update, taking batch size, heads, head size, dtype and device from
    `k` unless given here; `n_layers` etc. are optional so a cache can be built before the model is known.
    """

    is_static = True

    def __init__(
        self,
        max_batch_size: int,
        max_seq_len: int,
        n_layers: int | None = None,
        n_kv_heads: int | None = None,
        head_dim: int | None = None,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        if max_batch_size <= 0 or max_seq_len <= 0:
            raise ValueError(
                f"StaticKVCache needs max_batch_size > 0 and max_seq_len > 0; got {max_batch_size} and {max_seq_len}"
            )
        self.max_batch_size = max_batch_size
        self.max_seq_len = max_seq_len
        self.n_layers = n_layers
        self.n_kv_heads = n_kv_heads
        self.head_dim = head_dim
        self.dtype = dtype
        self.device = torch.device(device) if device is not None else None
        self.keys: list[Tensor | None] = [None] * (n_layers or 0)
        self.values: list[Tensor | None] = [None] * (n_layers or 0)
        self.lengths: list[int] = [0] * (n_layers or 0)

    def _allocate(self, layer_idx: int, k: Tensor) -> None:
        _, n_kv_heads, _, head_dim = k.shape
        for name, want, got in (("n_kv_heads", self.n_kv_heads, n_kv_heads), ("head_dim", self.head_dim, head_dim)):
            if want is not None and want != got:
                raise ValueError(f"StaticKVCache was built with {name}={want} but layer {layer_idx} gave {got}")
        shape = (self.max_batch_size, n_kv_heads, self.max_seq_len, head_dim)
        dtype = self.dtype or k.dtype
        device = self.device or k.device
        self.keys[layer_idx] = torch.zeros(shape, dtype=dtype, device=device)
        self.values[layer_idx] = torch.zeros(shape, dtype=dtype, device=device)
        # Fixed addresses: CUDA graphs may then write these buffers in place instead of copying them each replay.
        torch._dynamo.mark_static_address(self.keys[layer_idx])
        torch._dynamo.mark_static_address(self.values[layer_idx])

    def update(
        self, layer_idx: int, k: Tensor, v: Tensor, cache_position: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        _check_kv(layer_idx, k, v)
        if self.n_layers is not None and layer_idx >= self.n_layers:
            raise IndexError(f"StaticKVCache was built for {self.n_layers} layers; got layer_idx {layer_idx}")
        while len(self.keys) <= layer_idx:
            self.keys.append(None)
            self.values.append(None)
            self.lengths.append(0)
        B, _, T, _ = k.shape
        if B > self.max_batch_size:
            raise ValueError(
                f"batch of {B} does not fit a StaticKVCache built for max_batch_size={self.max_batch_size}; "
                "build the cache with a larger max_batch_size"
            )
        if cache_position is not None:
            if self.keys[layer_idx] is None:
                self._allocate(layer_idx, k)
            keys, values = self.keys[layer_idx][:B], self.values[layer_idx][:B]
            keys.index_copy_(2, cache_position, k.to(keys.dtype))  # in place: slots cache_position of (B, H_kv, S, D)
            values.index_copy_(2, cache_position, v.to(values.dtype))
            return keys, values
        start = self.lengths[layer_idx]
        if start + T > self.max_seq_len:
            raise ValueError(
                f"StaticKVCache holds max_seq_len={self.max_seq_len} positions; {start} are cached and {T} more "
                "were given. Build the cache with a larger max_seq_len (prompt + new tokens)"
            )
        if self.keys[layer_idx] is None:
            self._allocate(layer_idx, k)
        keys, values = self.keys[layer_idx], self.values[layer_idx]
        keys[:B, :, start : start + T] = k.to(keys.dtype)  # in place: (B, H_kv, max_seq_len, D)
        values[:B, :, start : start + T] = v.to(values.dtype)
        self.lengths[layer_idx] = start + T
        return keys[:B], values[:B]

    def get_seq_length(self) -> int:
        return self.lengths[0] if self.lengths else 0

    def reset(self) -> None:
        self.crop(0)

    def crop(self, n: int) -> None:
        _check_crop(n)
        for i, keys in enumerate(self.keys):
            if keys is not None:  # every slot from n on: `cache_position` writes are not counted in `lengths`
                keys[:, :, n:].zero_()
                self.values[i][:, :, n:].zero_()
            self.lengths[i] = min(self.lengths[i], n)

    def __len__(self) -> int:
        return self.get_seq_length()
