import torch

from ailab.models.gpt2 import GPT2Config, GPT2Model
from ailab.models.llama import LlamaConfig, LlamaModel
from ailab.trainers.optim import build_optimizer, param_groups


def _names(model, params):
    ids = {id(p) for p in params}
    return sorted(name for name, p in model.named_parameters() if id(p) in ids)


def test_gpt2_decays_matrices_only_and_never_the_tied_embedding():
    model = GPT2Model(GPT2Config(vocab_size=64, n_ctx=32, n_layers=2, d_model=32, n_heads=2, d_ff=64, eos_token_id=0))
    decay, no_decay = param_groups(model, weight_decay=0.1)
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    decayed = _names(model, decay["params"])
    assert decayed == sorted(
        f"h.{i}.{m}.weight" for i in range(2) for m in ("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj")
    )
    not_decayed = _names(model, no_decay["params"])
    assert "wte.weight" in not_decayed and "wpe.weight" in not_decayed  # lm_head is tied to wte
    assert all(n.endswith("bias") or "ln" in n or n.startswith("wt") or n.startswith("wp") for n in not_decayed)
    every = {id(p) for p in model.parameters()}
    assert {id(p) for p in decay["params"]} | {id(p) for p in no_decay["params"]} == every
    assert not {id(p) for p in decay["params"]} & {id(p) for p in no_decay["params"]}


def test_untied_llama_head_is_decayed_but_its_embedding_is_not():
    config = LlamaConfig.from_preset("tiny", tie_embeddings=False)
    model = LlamaModel(config)
    decay, no_decay = param_groups(model, weight_decay=0.1)
    assert "lm_head.weight" in _names(model, decay["params"])
    assert "embed_tokens.weight" in _names(model, no_decay["params"])
    assert all(p.ndim == 1 for n, p in model.named_parameters() if "norm" in n)
    assert not any("norm" in n for n in _names(model, decay["params"]))


def test_optimizer_is_adamw_with_multi_tensor_kernel_on_cpu():
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.LayerNorm(4))
    opt = build_optimizer(model, learning_rate=1e-3, weight_decay=0.1, betas=(0.9, 0.95), device=torch.device("cpu"))
    assert isinstance(opt, torch.optim.AdamW)
    assert [g["weight_decay"] for g in opt.param_groups] == [0.1, 0.0]
    assert opt.param_groups[0]["betas"] == (0.9, 0.95) and opt.param_groups[0]["foreach"] is True
