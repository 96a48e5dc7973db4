"""Hugging Face transformers import/export: ailab GPT-2 <-> `GPT2LMHeadModel`, ailab LLaMA <-> `LlamaForCausalLM`.

`export_hf(model, out_dir)` writes a directory that `transformers.AutoModelForCausalLM.from_pretrained(out_dir)`
loads with no ailab code; `from_hf(path_or_model)` goes the other way. Weight names already match transformers'
(less the `transformer.` / `model.` prefix); GPT-2's Conv1D weights are stored (in, out) there and are transposed;
ailab's rotary layout is transformers' `rotate_half` one, so LLaMA q/k weights need no permutation.
transformers is imported lazily: it is a test/export dependency, not a runtime one.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ailab.io import atomic_directory
from ailab.models.gpt2 import GPT2Config, GPT2Model
from ailab.models.llama import LlamaConfig, LlamaModel

GPT2_CONV1D = (".attn.c_attn.weight", ".attn.c_proj.weight", ".mlp.c_fc.weight", ".mlp.c_proj.weight")
GPT2_TANH_GELUS = ("gelu_new", "gelu_pytorch_tanh")


def _hf_name(model: GPT2Model | LlamaModel, name: str) -> str:
    if name.startswith("lm_head."):
        return name
    return ("transformer." if isinstance(model, GPT2Model) else "model.") + name


def _is_conv1d(name: str) -> bool:
    return name.endswith(GPT2_CONV1D)


def to_hf_config(config: GPT2Config | LlamaConfig) -> Any:
    """The transformers config (`GPT2Config` or `LlamaConfig`) describing the same network as `config`."""
    import transformers

    if isinstance(config, GPT2Config):
        return transformers.GPT2Config(
            vocab_size=config.vocab_size,
            n_positions=config.n_ctx,
            n_embd=config.d_model,
            n_layer=config.n_layers,
            n_head=config.n_heads,
            n_inner=config.d_ff,
            activation_function="gelu_new",
            resid_pdrop=config.dropout,
            embd_pdrop=config.dropout,
            attn_pdrop=config.dropout,
            layer_norm_epsilon=config.layer_norm_eps,
            bos_token_id=config.bos_token_id,
            eos_token_id=config.eos_token_id,
            tie_word_embeddings=config.tie_embeddings,
            architectures=["GPT2LMHeadModel"],
        )
    if isinstance(config, LlamaConfig):
        return transformers.LlamaConfig(
            vocab_size=config.vocab_size,
            hidden_size=config.d_model,
            intermediate_size=config.d_ff,
            num_hidden_layers=config.n_layers,
            num_attention_heads=config.n_heads,
            num_key_value_heads=config.n_kv_heads,
            head_dim=config.head_dim,
            hidden_act="silu",
            max_position_embeddings=config.n_ctx,
            rms_norm_eps=config.norm_eps,
            rope_theta=config.rope_theta,
            attention_dropout=config.dropout,
            attention_bias=False,
            mlp_bias=False,
            bos_token_id=config.bos_token_id,
            eos_token_id=config.eos_token_id,
            tie_word_embeddings=config.tie_embeddings,
            architectures=["LlamaForCausalLM"],
        )
    raise TypeError(f"no transformers equivalent for {type(config).__name__}; expected GPT2Config or LlamaConfig")


def to_hf(model: GPT2Model | LlamaModel) -> Any:
    """A transformers `GPT2LMHeadModel` / `LlamaForCausalLM` (float32, eval mode) holding `model`'s weights."""
    import transformers

    hf_config = to_hf_config(model.config)
    hf_cls = transformers.GPT2LMHeadModel if isinstance(model, GPT2Model) else transformers.LlamaForCausalLM
    hf_model = hf_cls(hf_config)
    state = {}
    for name, tensor in model.state_dict().items():
        if model.config.tie_embeddings and name == model.tied_weights[0]:
            continue
        tensor = tensor.detach().float()
        state[_hf_name(model, name)] = (tensor.t() if _is_conv1d(name) else tensor).contiguous()
    missing, unexpected = hf_model.load_state_dict(state, strict=False)
    missing = [n for n in missing if not (model.config.tie_embeddings and n == "lm_head.weight")]
    if missing or unexpected:
        raise RuntimeError(
            f"{hf_cls.__name__} weight names changed in this transformers version: "
            f"missing {missing}, unexpected {unexpected}"
        )
    if model.config.tie_embeddings:
        hf_model.tie_weights()
    return hf_model.float().eval()


def export_hf(model: GPT2Model | LlamaModel, out_dir: str | Path, tokenizer: Any = None) -> Path:
    """Write `model` (and `tokenizer`, where it converts) as a transformers checkpoint in `out_dir`, atomically.

    `AutoModelForCausalLM.from_pretrained(out_dir)` then loads it as GPT2LMHeadModel or LlamaForCausalLM, and
    `AutoTokenizer.from_pretrained(out_dir)` loads the tokenizer as a PreTrainedTokenizerFast.
    """
    hf_model = to_hf(model)
    out_dir = Path(out_dir)
    with atomic_directory(out_dir) as tmp:
        hf_model.save_pretrained(tmp, safe_serialization=True)
        if tokenizer is not None:
            try:
                tokenizer.to_hf_tokenizer().save_pretrained(tmp)
            except NotImplementedError as e:
                warnings.warn(f"model exported to {out_dir} without its tokenizer: {e}", stacklevel=2)
    return out_dir


def _rope(hf_config: Any) -> tuple[str, float]:
    """(rope_type, rope_theta) from a transformers Llama config of any recent version."""
    params = getattr(hf_config, "rope_parameters", None) or getattr(hf_config, "rope_scaling", None) or {}
    rope_type = params.get("rope_type", params.get("type", "default"))
    theta = params.get("rope_theta", getattr(hf_config, "rope_theta", 10000.0))
    return rope_type, float(theta)


def _token_id(hf_config: Any, name: str) -> int | None:
    value = getattr(hf_config, name, None)
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    if value is not None and not 0 <= value < hf_config.vocab_size:
        warnings.warn(f"{name}={value} is outside the vocabulary of {hf_config.vocab_size}; using None", stacklevel=3)
        return None
    return value


def _unsupported(arch: str, what: list[str]) -> None:
    if what:
        raise ValueError(f"cannot load this {arch} into ailab: unsupported {'; '.join(what)}")


def from_hf_config(hf_config: Any) -> GPT2Config | LlamaConfig:
    """The ailab config of a transformers GPT-2 or LLaMA config; features ailab lacks raise ValueError by name."""
    model_type = getattr(hf_config, "model_type", None)
    if model_type == "gpt2":
        _unsupported(
            "GPT-2",
            [
                *(
                    [f"activation_function={hf_config.activation_function!r} (ailab uses tanh GELU)"]
                    if hf_config.activation_function not in GPT2_TANH_GELUS
                    else []
                ),
                *(["scale_attn_weights=False"] if not hf_config.scale_attn_weights else []),
                *(["scale_attn_by_inverse_layer_idx=True"] if hf_config.scale_attn_by_inverse_layer_idx else []),
                *(["add_cross_attention=True"] if hf_config.add_cross_attention else []),
            ],
        )
        return GPT2Config(
            vocab_size=hf_config.vocab_size,
            n_ctx=hf_config.n_positions,
            n_layers=hf_config.n_layer,
            d_model=hf_config.n_embd,
            n_heads=hf_config.n_head,
            d_ff=hf_config.n_inner or 4 * hf_config.n_embd,
            dropout=hf_config.resid_pdrop,
            eos_token_id=_token_id(hf_config, "eos_token_id"),
            bos_token_id=_token_id(hf_config, "bos_token_id"),
            layer_norm_eps=hf_config.layer_norm_epsilon,
            tie_embeddings=bool(hf_config.tie_word_embeddings),
        )
    if model_type == "llama":
        rope_type, theta = _rope(hf_config)
        head_dim = getattr(hf_config, "head_dim", None) or hf_config.hidden_size // hf_config.num_attention_heads
        _unsupported(
            "LLaMA",
            [
                *([f"rope scaling (rope_type={rope_type!r})"] if rope_type != "default" else []),
                *(["attention_bias=True"] if getattr(hf_config, "attention_bias", False) else []),
                *(["mlp_bias=True"] if getattr(hf_config, "mlp_bias", False) else []),
                *([f"hidden_act={hf_config.hidden_act!r} (ailab uses silu)"] if hf_config.hidden_act != "silu" else []),
                *(
                    [f"head_dim={head_dim} != hidden_size / num_attention_heads"]
                    if head_dim * hf_config.num_attention_heads != hf_config.hidden_size
                    else []
                ),
            ],
        )
        return LlamaConfig(
            vocab_size=hf_config.vocab_size,
            n_ctx=hf_config.max_position_embeddings,
            d_model=hf_config.hidden_size,
            n_layers=hf_config.num_hidden_layers,
            n_heads=hf_config.num_attention_heads,
            n_kv_heads=hf_config.num_key_value_heads or hf_config.num_attention_heads,
            d_ff=hf_config.intermediate_size,
            rope_theta=theta,
            norm_eps=hf_config.rms_norm_eps,
            tie_embeddings=bool(hf_config.tie_word_embeddings),
            dropout=float(hf_config.attention_dropout),
            bos_token_id=_token_id(hf_config, "bos_token_id"),
            eos_token_id=_token_id(hf_config, "eos_token_id"),
        )
    raise ValueError(
        f"cannot load a transformers model_type={model_type!r}; ailab has GPT-2 ('gpt2') and LLaMA ('llama')"
    )


def from_hf(path_or_model: str | Path | Any) -> GPT2Model | LlamaModel:
    """An ailab model (float32) with the weights of a transformers GPT2LMHeadModel / LlamaForCausalLM (dir or model)."""
    import transformers

    hf_model = path_or_model
    if isinstance(path_or_model, (str, Path)):
        if not (Path(path_or_model) / "config.json").is_file():
            raise FileNotFoundError(f"no config.json in {path_or_model}: from_hf needs a transformers model directory")
        hf_model = transformers.AutoModelForCausalLM.from_pretrained(path_or_model)
    if not isinstance(hf_model, (transformers.GPT2LMHeadModel, transformers.LlamaForCausalLM)):
        raise TypeError(f"from_hf loads GPT2LMHeadModel or LlamaForCausalLM; got {type(hf_model).__name__}")
    config = from_hf_config(hf_model.config)
    model = GPT2Model(config) if isinstance(config, GPT2Config) else LlamaModel(config)
    hf_state: dict[str, Tensor] = hf_model.state_dict()
    state = {}
    for name in model.state_dict():
        hf_name = _hf_name(model, name)
        if hf_name not in hf_state:
            continue  # reported by load_weights, unless it is the tied output weight
        tensor = hf_state[hf_name].detach().to(torch.float32)
        state[name] = (tensor.t() if _is_conv1d(name) else tensor).contiguous()
    model.load_weights(state)
    return model.eval()
