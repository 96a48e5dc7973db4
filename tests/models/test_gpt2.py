"""GPT-2: config checks, presets, loss, initialisation, reference attention, autocast, FLOPs."""

import math

import pytest
import torch
import torch.nn.functional as F

from ailab.generation.mixin import GenerationMixin
from ailab.models import gpt2
from ailab.models.attention import reference_attention
from ailab.models.gpt2 import GPT2Config, GPT2Model


def tiny(**overrides) -> GPT2Model:
    torch.manual_seed(0)
    return GPT2Model(GPT2Config.from_preset("tiny", **overrides)).eval()


def test_is_a_module_with_generate():
    model = tiny()
    assert isinstance(model, torch.nn.Module) and isinstance(model, GenerationMixin)
    assert model.config.model_type == "gpt2"


@pytest.mark.parametrize(
    "fields, message",
    [
        (dict(d_model=65), "divisible by n_heads"),
        (dict(n_layers=0), "n_layers must be a positive"),
        (dict(vocab_size=-1), "vocab_size must be a positive"),
        (dict(dropout=1.0), "dropout must be in"),
        (dict(eos_token_id=512), "eos_token_id=512 is outside the vocabulary"),
    ],
)
def test_config_rejects_impossible_values(fields, message):
    with pytest.raises(ValueError, match=message):
        GPT2Config.from_preset("tiny", **fields)


def test_presets_by_exact_name():
    assert GPT2Config.from_preset("gpt2-small") == GPT2Config(bos_token_id=50256)
    assert GPT2Config.from_preset("tiny", vocab_size=100).vocab_size == 100
    with pytest.raises(ValueError, match="choose one of .*gpt2-small"):
        GPT2Config.from_preset("gpt2_small")
    with torch.device("meta"):
        assert GPT2Model(GPT2Config.from_preset("gpt2-small")).num_parameters() == 124_439_808  # GPT-2's 124M


def test_output_shapes_and_loss_is_shifted_cross_entropy():
    model = tiny()
    x = torch.randint(0, 512, (2, 12), generator=torch.Generator().manual_seed(1))
    labels = x.clone()
    labels[0, 5:] = -100
    out = model(x, labels=labels)
    assert out.logits.shape == (2, 12, 512) and out.kv_cache is None
    expected = F.cross_entropy(out.logits[:, :-1].reshape(-1, 512), labels[:, 1:].reshape(-1), ignore_index=-100)
    torch.testing.assert_close(out.loss, expected)
    assert model(x).loss is None
    assert abs(model(x, labels=x).loss.item() - math.log(512)) < 0.1  # N(0, 0.02) init: near-uniform predictions


def test_initialisation_is_gpt2s():
    model = tiny(n_layers=4, d_model=256, n_heads=4, vocab_size=2048)
    assert model.lm_head.weight is model.wte.weight
    assert abs(model.wte.weight.std().item() - 0.02) < 1e-3
    assert abs(model.h[0].mlp.c_fc.weight.std().item() - 0.02) < 1e-3
    for proj in (model.h[0].attn.c_proj, model.h[3].mlp.c_proj):
        assert abs(proj.weight.std().item() - 0.02 / math.sqrt(8)) < 5e-4
    assert torch.all(model.h[0].attn.c_attn.bias == 0) and torch.all(model.ln_f.weight == 1)
    untied = tiny(tie_embeddings=False)
    assert untied.lm_head.weight is not untied.wte.weight


def test_reference_attention_gives_the_same_model_output(monkeypatch):
    model = tiny()
    x = torch.randint(0, 512, (2, 10), generator=torch.Generator().manual_seed(2))
    fast = model(x).logits
    monkeypatch.setattr(gpt2, "sdpa_attention", reference_attention)
    torch.testing.assert_close(model(x).logits, fast)


def test_bf16_autocast_forward_backward_with_fp32_master_weights():
    model = tiny().train()
    x = torch.randint(0, 512, (2, 16), generator=torch.Generator().manual_seed(3))
    fp32_loss = model(x, labels=x).loss
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(x, labels=x)
    assert out.logits.dtype == torch.bfloat16 and out.loss.dtype == torch.float32
    out.loss.backward()
    assert model.wte.weight.dtype == torch.float32 and torch.isfinite(model.wte.weight.grad).all()
    assert abs(out.loss.item() - fp32_loss.item()) < 0.05


def test_dropout_only_in_training():
    model = tiny(dropout=0.5)
    x = torch.randint(0, 512, (1, 8))
    torch.testing.assert_close(model(x).logits, model(x).logits)
    model.train()
    assert not torch.allclose(model(x).logits, model(x).logits)


def test_longer_than_context_is_a_clear_error():
    with pytest.raises(ValueError, match="longer than the model's n_ctx=128"):
        tiny()(torch.zeros(1, 129, dtype=torch.long))


def test_flops_per_token_counts_like_nanogpt():
    model = tiny()
    c = model.config
    n = model.num_parameters() - c.n_ctx * c.d_model  # all but the position embedding
    assert model.flops_per_token(128) == 6 * n + 12 * c.n_layers * c.d_model * 128


@pytest.mark.parametrize("bad", [512, 10_000, -1])
def test_token_id_outside_the_vocabulary_is_a_clear_error(bad):
    model = tiny()
    ids = torch.tensor([[1, 2, bad, 3]])
    with pytest.raises(ValueError, match=rf"token id {bad} in input_ids .*vocab_size=512, ids 0..511"):
        model(ids)
    with pytest.raises(ValueError, match=rf"token id {bad} in input_ids .*vocab_size=512"):
        model.generate(ids, max_new_tokens=2)
    assert model(torch.tensor([[0, 511]])).logits.shape == (1, 2, 512)  # the edges of the vocabulary are fine
