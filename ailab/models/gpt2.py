"""GPT-2 (Radford et al., 2019): learned positions, pre-LayerNorm blocks, GELU (tanh) MLP, tied embeddings.

Weight names follow transformers' `GPT2LMHeadModel` (without its `transformer.` prefix) so `ailab.models.hf` only
transposes its Conv1D weights. Initialisation is GPT-2's: N(0, 0.02) everywhere, residual projections scaled by
1/√(2·n_layers) so the residual stream's variance does not grow with depth.
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
from ailab.models.attention import attention_inputs, past_length, sdpa_attention
from ailab.models.config import ModelConfig, check_dropout, check_positive, check_token_id
from ailab.models.outputs import CausalLMOutput, causal_lm_loss
from ailab.models.pretrained import PretrainedMixin
from ailab.token_ids import check_forward_token_ids


@dataclass
class GPT2Config(ModelConfig):
    """Sizes of a GPT-2; the defaults are GPT-2 small (124M parameters)."""

    vocab_size: int = 50257
    """Number of token ids (the tokenizer's vocab_size)."""
    n_ctx: int = 1024
    """Longest sequence the model reads: the number of learned position embeddings."""
    n_layers: int = 12
    """Number of transformer blocks."""
    d_model: int = 768
    """Width of the residual stream (embedding size)."""
    n_heads: int = 12
    """Attention heads per block; must divide d_model."""
    d_ff: int | None = None
    """Hidden width of the MLP; None means 4·d_model, as in GPT-2."""
    dropout: float = 0.0
    """Dropout on embeddings, attention weights and residual branches while training."""
    eos_token_id: int | None = 50256
    """End-of-text token id, or None when the tokenizer has none."""
    bos_token_id: int | None = None
    """Beginning-of-text token id, or None when the tokenizer has none."""
    layer_norm_eps: float = 1e-5
    """LayerNorm epsilon."""
    tie_embeddings: bool = True
    """Share the output projection with the token embedding, as GPT-2 does."""

    model_type: ClassVar[str] = "gpt2"

    def __post_init__(self) -> None:
        if self.d_ff is None:
            self.d_ff = 4 * self.d_model
        check_positive(self, "vocab_size", "n_ctx", "n_layers", "d_model", "n_heads", "d_ff", "layer_norm_eps")
        if self.d_model % self.n_heads:
            raise ValueError(
                f"GPT2Config.d_model={self.d_model} must be divisible by n_heads={self.n_heads}; "
                "change one so that each head gets d_model / n_heads channels"
            )
        check_dropout(self)
        check_token_id(self, "eos_token_id")
        check_token_id(self, "bos_token_id")

    @property
    def head_dim(self) -> int:
        """Channels per attention head."""
        return self.d_model // self.n_heads


GPT2_PRESETS: dict[str, dict[str, Any]] = {
    "tiny": dict(vocab_size=512, n_ctx=128, n_layers=2, d_model=64, n_heads=4, eos_token_id=None),
    # llama2.c's stories15M sizes (dim 288, 6 layers, 6 heads, context 256) with GPT-2 blocks: ~15M parameters.
    "tinystories-15m": dict(vocab_size=32000, n_ctx=256, n_layers=6, d_model=288, n_heads=6, eos_token_id=None),
    "gpt2-small": dict(
        vocab_size=50257, n_ctx=1024, n_layers=12, d_model=768, n_heads=12, eos_token_id=50256, bos_token_id=50256
    ),
    "gpt2-medium": dict(
        vocab_size=50257, n_ctx=1024, n_layers=24, d_model=1024, n_heads=16, eos_token_id=50256, bos_token_id=50256
    ),
}
GPT2Config.presets = GPT2_PRESETS


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention with one fused q/k/v projection (`c_attn`), as GPT-2 has."""

    def __init__(self, config: GPT2Config, layer_idx: int) -> None:
        super().__init__()
        self.layer_idx = layer_idx
        self.n_heads = config.n_heads
        self.dropout = config.dropout
        self.c_attn = nn.Linear(config.d_model, 3 * config.d_model)
        self.c_proj = nn.Linear(config.d_model, config.d_model)
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(
        self,
        x: Tensor,
        kv_cache: KVCache | None,
        mask: Tensor | None,
        is_causal: bool,
        cache_position: Tensor | None = None,
    ) -> Tensor:
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        q = q.view(B, T, self.n_heads, C // self.n_heads).transpose(1, 2)  # (B, H, T, D)
        k = k.view(B, T, self.n_heads, C // self.n_heads).transpose(1, 2)
        v = v.view(B, T, self.n_heads, C // self.n_heads).transpose(1, 2)
        if kv_cache is not None:
            k, v = kv_cache.update(self.layer_idx, k, v, cache_position)  # (B, H, S, D)
        y = sdpa_attention(q, k, v, mask, is_causal, self.dropout if self.training else 0.0)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # (B, T, H·D)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    """d_model -> d_ff -> GELU (tanh approximation, as GPT-2) -> d_model."""

    def __init__(self, config: GPT2Config) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.d_model, config.d_ff)
        self.c_proj = nn.Linear(config.d_ff, config.d_model)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x), approximate="tanh")))


class Block(nn.Module):
    """Pre-LayerNorm transformer block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, config: GPT2Config, layer_idx: int) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.d_model, eps=config.layer_norm_eps)
        self.attn = CausalSelfAttention(config, layer_idx)
        self.ln_2 = nn.LayerNorm(config.d_model, eps=config.layer_norm_eps)
        self.mlp = MLP(config)

    def forward(
        self,
        x: Tensor,
        kv_cache: KVCache | None,
        mask: Tensor | None,
        is_causal: bool,
        cache_position: Tensor | None = None,
    ) -> Tensor:
        x = x + self.attn(self.ln_1(x), kv_cache, mask, is_causal, cache_position)
        return x + self.mlp(self.ln_2(x))


class GPT2Model(PretrainedMixin, GenerationMixin, nn.Module):
    """GPT-2 language model: token ids (B, T) -> next-token logits (B, T, vocab_size)."""

    config_class = GPT2Config
    tied_weights = ("lm_head.weight", "wte.weight")

    def __init__(self, config: GPT2Config) -> None:
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.d_model)
        self.wpe = nn.Embedding(config.n_ctx, config.d_model)
        self.drop = nn.Dropout(config.dropout)
        self.h = nn.ModuleList(Block(config, i) for i in range(config.n_layers))
        self.ln_f = nn.LayerNorm(config.d_model, eps=config.layer_norm_eps)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        if config.tie_embeddings:
            self.lm_head.weight = self.wte.weight
        self.init_weights()

    @torch.no_grad()
    def init_weights(self) -> None:
        """GPT-2's initialisation: N(0, 0.02), biases 0, residual projections N(0, 0.02/√(2·n_layers))."""
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)
            if isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        for block in self.h:
            for proj in (block.attn.c_proj, block.mlp.c_proj):
                nn.init.normal_(proj.weight, mean=0.0, std=0.02 / math.sqrt(2 * self.config.n_layers))

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
        past = past_length(kv_cache) if cache_position is None else 0  # cache slots are trusted, not read back
        if past + T > self.config.n_ctx:
            raise ValueError(
                f"sequence of {past + T} tokens is longer than the model's n_ctx={self.config.n_ctx}; "
                "crop the input (or the cache) to the last n_ctx tokens"
            )
        position_ids, mask, is_causal = attention_inputs(
            input_ids, kv_cache, attention_mask, position_ids, cache_position
        )

        x = self.drop(self.wte(input_ids) + self.wpe(position_ids))  # (B, T, C)
        for block in self.h:
            x = block(x, kv_cache, mask, is_causal, cache_position)
        logits = self.lm_head(self.ln_f(x))  # (B, T, vocab_size)
        loss = causal_lm_loss(logits, labels) if labels is not None else None
        return CausalLMOutput(logits=logits, loss=loss, kv_cache=kv_cache)

    def flops_per_token(self, seq_len: int) -> int:
        """Training FLOPs per token (forward + backward), as nanoGPT counts them: 6·N + 12·L·H·Q·T.

        N counts the parameters that multiply per token: all but the position embedding (a lookup), so with tied
        embeddings the token embedding counts once, as the output projection. H·Q = d_model, T = `seq_len`.
        """
        n = self.num_parameters() - self.wpe.weight.numel()
        if not self.config.tie_embeddings:
            n -= self.wte.weight.numel()
        c = self.config
        return 6 * n + 12 * c.n_layers * c.n_heads * c.head_dim * seq_len
