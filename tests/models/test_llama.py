"""LLaMA: config checks (GQA, derived SwiGLU width), presets, rotary, loss, init, reference attention, autocast."""

import math

import pytest
import torch

from ailab.generation.mixin import GenerationMixin
from ailab.models import llama
from ailab.models.attention import reference_attention
from ailab.models.llama import LlamaConfig, LlamaModel, RotaryEmbedding, apply_rotary


def tiny(**overrides) -> LlamaModel:
    torch.manual_seed(0)
    return LlamaModel(LlamaConfig.from_preset("tiny", **overrides)).eval()


def test_is_a_module_with_generate():
    model = tiny()
    assert isinstance(model, torch.nn.Module) and isinstance(model, GenerationMixin)
    assert model.config.model_type == "llama"


@pytest.mark.parametrize(
    "fields, message",
    [
        (dict(d_model=65), "divisible by n_heads"),
        (dict(n_kv_heads=3), "divisible by n_kv_heads"),
        (dict(d_model=12, n_heads=4), "must be even for rotary"),
        (dict(d_ff=0), "d_ff must be a positive"),
        (dict(rope_theta=0.0), "rope_theta must be a positive"),
        (dict(bos_token_id=600), "bos_token_id=600 is outside"),
    ],
)
def test_config_rejects_impossible_values(fields, message):
    with pytest.raises(ValueError, match=message):
        LlamaConfig.from_preset("tiny", **fields)


def test_derived_swiglu_width_and_presets():
    stories15m = LlamaConfig.from_preset("tinystories-15m")
    assert (stories15m.d_model, stories15m.n_layers, stories15m.n_heads, stories15m.n_kv_heads) == (288, 6, 6, 6)
    assert stories15m.d_ff == 768  # llama2.c's hidden_dim for dim 288, multiple_of 32
    assert LlamaConfig().d_ff == 11008  # LLaMA-2 7B
    with torch.device("meta"):
        assert LlamaModel(stories15m).num_parameters() == 15_191_712  # llama2.c's stories15M
    with pytest.raises(ValueError, match="choose one of"):
        LlamaConfig.from_preset("stories15m")


def test_rotary_scores_depend_only_on_relative_position():
    rotary = RotaryEmbedding(head_dim=8, theta=10000.0)
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(1, 1, 1, 8, generator=g), torch.randn(1, 1, 1, 8, generator=g)

    def score(pos_q, pos_k):
        return (
            apply_rotary(q, *rotary(torch.tensor([[pos_q]]))) * apply_rotary(k, *rotary(torch.tensor([[pos_k]])))
        ).sum()

    torch.testing.assert_close(score(5, 2), score(13, 10))
    assert not torch.allclose(score(5, 2), score(5, 4))


def test_loss_ignores_minus_100_and_starts_near_uniform():
    model = tiny()
    x = torch.randint(0, 512, (2, 12), generator=torch.Generator().manual_seed(1))
    labels = x.clone()
    labels[:, :6] = -100
    out = model(x, labels=labels)
    logp = out.logits[:, 5:-1].log_softmax(-1)
    expected = -logp.gather(-1, x[:, 6:, None]).mean()
    torch.testing.assert_close(out.loss, expected)
    assert abs(model(x, labels=x).loss.item() - math.log(512)) < 0.1


def test_initialisation_and_tying():
    model = tiny(n_layers=4, d_model=256, n_heads=4, n_kv_heads=4)
    assert model.lm_head.weight is not model.embed_tokens.weight  # LLaMA unties by default
    assert abs(model.layers[0].self_attn.q_proj.weight.std().item() - 0.02) < 1e-3
    for proj in (model.layers[0].self_attn.o_proj, model.layers[3].mlp.down_proj):
        assert abs(proj.weight.std().item() - 0.02 / math.sqrt(8)) < 5e-4
    assert all(
        p.dim() > 1 or name.endswith("layernorm.weight") or name == "norm.weight"
        for name, p in model.named_parameters()
    )  # no biases anywhere
    tied = tiny(tie_embeddings=True)
    assert tied.lm_head.weight is tied.embed_tokens.weight


@pytest.mark.parametrize("n_kv_heads", [4, 2, 1])
def test_reference_attention_gives_the_same_model_output(monkeypatch, n_kv_heads):
    model = tiny(n_kv_heads=n_kv_heads)
    x = torch.randint(0, 512, (2, 10), generator=torch.Generator().manual_seed(2))
    fast = model(x).logits
    monkeypatch.setattr(llama, "sdpa_attention", reference_attention)
    torch.testing.assert_close(model(x).logits, fast)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_autocast_forward_backward_with_fp32_master_weights(dtype):
    model = tiny().train()
    x = torch.randint(0, 512, (2, 16), generator=torch.Generator().manual_seed(3))
    fp32_loss = model(x, labels=x).loss
    with torch.autocast("cpu", dtype=dtype):
        out = model(x, labels=x)
    assert out.logits.dtype == dtype and out.loss.dtype == torch.float32
    out.loss.backward()
    assert model.embed_tokens.weight.dtype == torch.float32 and torch.isfinite(model.lm_head.weight.grad).all()
    assert abs(out.loss.item() - fp32_loss.item()) < 0.05


def test_flops_per_token_counts_like_nanogpt():
    model = tiny()
    c = model.config
    n = model.num_parameters() - c.vocab_size * c.d_model  # untied: the input embedding is a lookup
    assert model.flops_per_token(64) == 6 * n + 12 * c.n_layers * c.n_heads * c.head_dim * 64


@pytest.mark.parametrize("bad", [512, 10_000, -1])
def test_token_id_outside_the_vocabulary_is_a_clear_error(bad):
    model = tiny()
    ids = torch.tensor([[1, 2, bad, 3]])
    with pytest.raises(ValueError, match=rf"token id {bad} in input_ids .*vocab_size=512, ids 0..511"):
        model(ids)
    with pytest.raises(ValueError, match=rf"token id {bad} in input_ids .*vocab_size=512"):
        model.generate(ids, max_new_tokens=2)
    assert model(torch.tensor([[0, 511]])).logits.shape == (1, 2, 512)  # the edges of the vocabulary are fine
