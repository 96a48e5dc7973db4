"""LLaMA (Touvron et al., 2023): RMSNorm, rotary positions, SwiGLU MLP, grouped-query attention, no biases.

Weight names follow transformers' `LlamaForCausalLM` (without its `model.` prefix), and rotary embeddings pair
channel i with channel i + head_dim/2 (transformers' `rotate_half` layout), so Hugging Face checkpoints load with no
permutation. (Meta's original checkpoints, like llama2.c's, pair adjacent channels; transformers' conversion script
permutes their q/k weights into this layout.) Initialisation follows llama2.c: N(0, 0.02), with the residual
projections (o_proj, down_proj) scaled by 1/√(2·n_layers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ailab.generation.kv_cache import KVCache
from ailab.generation.mixin import GenerationMixin
from ailab.models.attention import attention_inputs, sdpa_attention
from ailab.models.config import ModelConfig, check_dropout, check_positive, check_token_id
from ailab.models.outputs import CausalLMOutput, causal_lm_loss
from ailab.models.pretrained import PretrainedMixin
from ailab.token_ids import check_forward_token_ids


@dataclass
class LlamaConfig(ModelConfig):
    """Sizes of a LLaMA; the defaults are LLaMA-2 7B's."""

    vocab_size: int = 32000
    """Number of token ids (the tokenizer's vocab_size)."""
    n_ctx: int = 4096
    """Longest sequence the model is meant to read (rotary positions themselves have no hard limit)."""
    d_model: int = 4096
    """Width of the residual stream (embedding size)."""
    n_layers: int = 32
    """Number of transformer blocks."""
    n_heads: int = 32
    """Query heads per block; must divide d_model, and head_dim = d_model / n_heads must be even (rotary pairs)."""
    n_kv_heads: int | None = None
    """Key/value heads; fewer than n_heads is grouped-query attention. None means n_heads (plain multi-head)."""
    d_ff: int | None = None
    """Hidden width of the SwiGLU MLP; None derives LLaMA's: 2/3 · 4·d_model rounded up to a multiple_of."""
    multiple_of: int = 256
    """Rounding of the derived d_ff (only used when d_ff is None)."""
    rope_theta: float = 10000.0
    """Base θ of the rotary frequencies θ^(-2i/head_dim)."""
    norm_eps: float = 1e-5
    """RMSNorm epsilon."""
    tie_embeddings: bool = False
    """Share the output projection with the token embedding (LLaMA does not; llama2.c's small models do)."""
    dropout: float = 0.0
    """Dropout on embeddings, attention weights and residual branches while training (as llama2.c)."""
    bos_token_id: int | None = 1
    """Beginning-of-sequence token id, or None when the tokenizer has none."""
    eos_token_id: int | None = 2
    """End-of-sequence token id, or None when the tokenizer has none."""

    model_type: ClassVar[str] = "llama"

    def __post_init__(self) -> None:
        check_positive(
            self, "vocab_size", "n_ctx", "d_model", "n_layers", "n_heads", "multiple_of", "rope_theta", "norm_eps"
        )
        if self.n_kv_heads is None:
            self.n_kv_heads = self.n_heads
        if self.d_ff is None:
            hidden = int(2 * (4 * self.d_model) / 3)
            self.d_ff = self.multiple_of * ((hidden + self.multiple_of - 1) // self.multiple_of)
        check_positive(self, "n_kv_heads", "d_ff")
        if self.d_model % self.n_heads:
            raise ValueError(
                f"LlamaConfig.d_model={self.d_model} must be divisible by n_heads={self.n_heads}; "
                "change one so that each head gets d_model / n_heads channels"
            )
        if self.n_heads % self.n_kv_heads:
            raise ValueError(
                f"LlamaConfig.n_heads={self.n_heads} must be divisible by n_kv_heads={self.n_kv_heads}; "
                "each key/value head serves a whole group of query heads"
            )
        if self.head_dim % 2:
            raise ValueError(
                f"LlamaConfig head_dim = d_model / n_heads = {self.head_dim} must be even for rotary "
                "embeddings; change d_model or n_heads"
            )
        check_dropout(self)
        check_token_id(self, "bos_token_id")
        check_token_id(self, "eos_token_id")

    @property
    def head_dim(self) -> int:
        """Channels per attention head."""
        return self.d_model // self.n_heads


LLAMA_PRESETS: dict[str, dict[str, Any]] = {
    "tiny": dict(vocab_size=512, n_ctx=128, d_model=64, n_layers=2, n_heads=4, n_kv_heads=2, multiple_of=32),
    # llama2.c's TinyStories models (its 32000-token LLaMA tokenizer; weights tied).
    "tinystories-15m": dict(
        vocab_size=32000, n_ctx=256, d_model=288, n_layers=6, n_heads=6, multiple_of=32, tie_embeddings=True
    ),
    "tinystories-42m": dict(
        vocab_size=32000, n_ctx=1024, d_model=512, n_layers=8, n_heads=8, multiple_of=32, tie_embeddings=True
    ),
    "tinystories-110m": dict(
        vocab_size=32000, n_ctx=1024, d_model=768, n_layers=12, n_heads=12, multiple_of=32, tie_embeddings=True
    ),
    "llama2-7b": dict(vocab_size=32000, n_ctx=4096, d_model=4096, n_layers=32, n_heads=32, multiple_of=256),
}
LlamaConfig.presets = LLAMA_PRESETS


class RMSNorm(nn.Module):
    """x / rms(x) · weight, computed in float32 (as LLaMA does) by PyTorch's fused kernel."""

    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: Tensor) -> Tensor:
        out_dtype = torch.promote_types(x.dtype, self.weight.dtype)  # fp32 weights under autocast: fp32 out
        return F.rms_norm(x.float(), (x.shape[-1],), self.weight.float(), self.eps).to(out_dtype)  # fused kernel


class RotaryEmbedding(nn.Module):
    """cos/sin of the rotation angles position · θ^(-2i/head_dim), from explicit position ids."""

    def __init__(self, head_dim: int, theta: float) -> None:
        super().__init__()
        self.head_dim, self.theta = head_dim, theta
        self.register_buffer("inv_freq", self.frequencies(), persistent=False)

    def frequencies(self) -> Tensor:
        return 1.0 / (self.theta ** (torch.arange(0, self.head_dim, 2, dtype=torch.int64).float() / self.head_dim))

    def forward(self, position_ids: Tensor) -> tuple[Tensor, Tensor]:
        freqs = position_ids[..., None].float() * self.inv_freq  # (B|1, T, D/2)
        angles = torch.cat((freqs, freqs), dim=-1)  # (B|1, T, D): channel i and i + D/2 share an angle
        return angles.cos()[:, None], angles.sin()[:, None]  # (B|1, 1, T, D)


def rotate_half(x: Tensor) -> Tensor:
    """(x1, x2) -> (-x2, x1) on the two halves of the last dimension."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Rotate each channel pair (i, i + D/2) of x (B, H, T, D) by its angle."""
    cos, sin = cos.to(x.dtype), sin.to(x.dtype)
    return x * cos + rotate_half(x) * sin


class Attention(nn.Module):
    """Grouped-query attention with rotary positions; the cache stores only the n_kv_heads heads."""

    def __init__(self, config: LlamaConfig, layer_idx: int) -> None:
        super().__init__()
        self.layer_idx = layer_idx
        self.n_heads, self.n_kv_heads, self.head_dim = config.n_heads, config.n_kv_heads, config.head_dim
        self.dropout = config.dropout
        self.q_proj = nn.Linear(config.d_model, config.n_heads * config.head_dim, bias=False)
        self.k_proj = nn.Linear(config.d_model, config.n_kv_heads * config.head_dim, bias=False)
        self.v_proj = nn.Linear(config.d_model, config.n_kv_heads * config.head_dim, bias=False)
        self.o_proj = nn.Linear(config.n_heads * config.head_dim, config.d_model, bias=False)
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(
        self,
        x: Tensor,
        rotary: tuple[Tensor, Tensor],
        kv_cache: KVCache | None,
        mask: Tensor | None,
        is_causal: bool,
        cache_position: Tensor | None = None,
    ) -> Tensor:
        B, T, C = x.size()
        q = self.q_proj(x).view(B, T, self.n_heads, self.head_dim).transpose(1, 2)  # (B, H, T, D)
        k = self.k_proj(x).view(B, T, self.n_kv_heads, self.head_dim).transpose(1, 2)  # (B, H_kv, T, D)
        v = self.v_proj(x).view(B, T, self.n_kv_heads, self.head_dim).transpose(1, 2)
        q, k = apply_rotary(q, *rotary), apply_rotary(k, *rotary)
        if kv_cache is not None:
            k, v = kv_cache.update(self.layer_idx, k, v, cache_position)  # (B, H_kv, S, D)
        y = sdpa_attention(q, k, v, mask, is_causal, self.dropout if self.training else 0.0)
        y = y.transpose(1, 2).contiguous().view(B, T, self.n_heads * self.head_dim)  # (B, T, H·D)
        return self.resid_dropout(self.o_proj(y))


class MLP(nn.Module):
    """SwiGLU: down(silu(gate(x)) · up(x))."""

    def __init__(self, config: LlamaConfig) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(config.d_model, config.d_ff, bias=False)
        self.up_proj = nn.Linear(config.d_model, config.d_ff, bias=False)
        self.down_proj = nn.Linear(config.d_ff, config.d_model, bias=False)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x)))


class Block(nn.Module):
    """Pre-RMSNorm transformer block: x + attn(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, config: LlamaConfig, layer_idx: int) -> None:
        super().__init__()
        self.input_layernorm = RMSNorm(config.d_model, config.norm_eps)
        self.self_attn = Attention(config, layer_idx)
        self.post_attention_layernorm = RMSNorm(config.d_model, config.norm_eps)
        self.mlp = MLP(config)

    def forward(
        self,
        x: Tensor,
        rotary: tuple[Tensor, Tensor],
        kv_cache: KVCache | None,
        mask: Tensor | None,
        is_causal: bool,
        cache_position: Tensor | None = None,
    ) -> Tensor:
        x = x + self.self_attn(self.input_layernorm(x), rotary, kv_cache, mask, is_causal, cache_position)
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaModel(PretrainedMixin, GenerationMixin, nn.Module):
    """LLaMA language model: token ids (B, T) -> next-token logits (B, T, vocab_size)."""

    config_class = LlamaConfig
    tied_weights = ("lm_head.weight", "embed_tokens.weight")

    def __init__(self, config: LlamaConfig) -> None:
        super().__init__()
        self.config = config
        self.embed_tokens = nn.Embedding(config.vocab_size, config.d_model)
        self.dropout = nn.Dropout(config.dropout)
        self.rotary = RotaryEmbedding(config.head_dim, config.rope_theta)
        self.layers = nn.ModuleList(Block(config, i) for i in range(config.n_layers))
        self.norm = RMSNorm(config.d_model, config.norm_eps)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        if config.tie_embeddings:
            self.lm_head.weight = self.embed_tokens.weight
        self.init_weights()

    @torch.no_grad()
    def init_weights(self) -> None:
        """N(0, 0.02) weights, unit norms, residual projections N(0, 0.02/√(2·n_layers)); rotary frequencies."""
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if isinstance(module, RMSNorm):
                nn.init.ones_(module.weight)
        for layer in self.layers:
            for proj in (layer.self_attn.o_proj, layer.mlp.down_proj):
                nn.init.normal_(proj.weight, mean=0.0, std=0.02 / math.sqrt(2 * self.config.n_layers))
        self.rotary.inv_freq.copy_(self.rotary.frequencies())

    def forward(
        self,
        input_ids: Tensor,
        labels: Tensor | None = None,
        attention_mask: Tensor | None = None,
        kv_cache: KVCache | None = None,
        position_ids: Tensor | None = None,
        cache_position: Tensor | None = None,
    ) -> CausalLMOutput:
        """Logits for each position; mean next-token loss when `labels` (aligned with input_ids) are given.

        `cache_position` (T,): the static-cache slots of the new tokens, which then also give their positions and
        the mask (see `attention_inputs`); the compiled decode step passes it.
        """
        B, T = input_ids.shape
        check_forward_token_ids(input_ids, self.config.vocab_size)
        position_ids, mask, is_causal = attention_inputs(
            input_ids, kv_cache, attention_mask, position_ids, cache_position
        )
        rotary = self.rotary(position_ids)  # cos, sin: (B|1, 1, T, head_dim)

        x = self.dropout(self.embed_tokens(input_ids))  # (B, T, C)
        for layer in self.layers:
            x = layer(x, rotary, kv_cache, mask, is_causal, cache_position)
        logits = self.lm_head(self.norm(x))  # (B, T, vocab_size)
        loss = causal_lm_loss(logits, labels) if labels is not None else None
        return CausalLMOutput(logits=logits, loss=loss, kv_cache=kv_cache)

    def flops_per_token(self, seq_len: int) -> int:
        """Training FLOPs per token (forward + backward), as nanoGPT counts them: 6·N + 12·L·H·Q·T.

        N counts the parameters that multiply per token: all but an untied input embedding (a lookup); tied, it
        counts once, as the output projection. H = n_heads, Q = head_dim, T = `seq_len`.
        """
        n = self.num_parameters()
        if not self.config.tie_embeddings:
            n -= self.embed_tokens.weight.numel()
        c = self.config
        return 6 * n + 12 * c.n_layers * c.n_heads * c.head_dim * seq_len
