"""save_pretrained / from_pretrained round trips, config dicts, and the errors for bad directories and configs."""

import json

import pytest
import safetensors.torch
import torch

from ailab.models import GPT2Config, GPT2Model, LlamaConfig, LlamaModel, build_model, from_pretrained

CASES = [
    ("gpt2", dict(GPT2Config.presets["tiny"])),
    ("gpt2", dict(GPT2Config.presets["tiny"], tie_embeddings=False)),
    ("llama", dict(LlamaConfig.presets["tiny"])),
    ("llama", dict(LlamaConfig.presets["tiny"], tie_embeddings=True)),
]


@pytest.mark.parametrize("arch, fields", CASES)
def test_save_and_load_bit_for_bit(tmp_path, arch, fields):
    torch.manual_seed(0)
    model = build_model(arch, **fields)
    (tmp_path / "tokenizer.json").write_text("{}")  # a tokenizer saved beside the model stays
    model.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["model_type"] == arch
    assert (tmp_path / "tokenizer.json").exists()

    loaded = from_pretrained(tmp_path)
    assert type(loaded) is type(model) and loaded.config == model.config
    assert loaded.state_dict().keys() == model.state_dict().keys()
    for name, tensor in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor), name
    if model.config.tie_embeddings:
        assert loaded.lm_head.weight is loaded.state_dict(keep_vars=True)[type(model).tied_weights[1]]
        assert "lm_head.weight" not in safetensors.torch.load_file(tmp_path / "model.safetensors")
    same_class = type(model).from_pretrained(tmp_path)
    x = torch.randint(0, 512, (1, 9))
    assert torch.equal(same_class.eval()(x).logits, model.eval()(x).logits)


@pytest.mark.parametrize(
    "config", [GPT2Config.from_preset("tinystories-15m"), LlamaConfig(n_kv_heads=8, tie_embeddings=True)]
)
def test_config_round_trips_through_dict_and_json(config):
    d = json.loads(json.dumps(config.to_dict()))
    assert d["model_type"] == config.model_type
    assert type(config).from_dict(d) == config


def test_bad_configs_and_directories_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown GPT2Config field.*'n_embd'"):
        GPT2Config.from_dict({"n_embd": 64})
    with pytest.raises(ValueError, match="model_type='llama'"):
        GPT2Config.from_dict(LlamaConfig().to_dict())
    with pytest.raises(ValueError, match="unknown model architecture 'mamba'"):
        build_model("mamba")
    with pytest.raises(FileNotFoundError, match="no config.json"):
        from_pretrained(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"]}))
    with pytest.raises(ValueError, match="from_hf"):
        from_pretrained(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps(GPT2Config.from_preset("tiny").to_dict()))
    with pytest.raises(FileNotFoundError, match="no model.safetensors"):
        GPT2Model.from_pretrained(tmp_path)


def test_weights_of_another_shape_name_what_differs(tmp_path):
    torch.manual_seed(0)
    LlamaModel(LlamaConfig.from_preset("tiny")).save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config["n_layers"] = 3
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"missing \['layers.2"):
        from_pretrained(tmp_path)


@pytest.mark.parametrize("arch, fields", CASES[::2])
def test_from_pretrained_returns_the_model_in_eval_mode(tmp_path, arch, fields):
    model = build_model(arch, **dict(fields, dropout=0.5))
    model.save_pretrained(tmp_path)
    assert model.training  # a fresh model trains; a loaded one is for inference, as in transformers
    cls = type(model)
    for loaded in (from_pretrained(tmp_path), cls.from_pretrained(tmp_path)):
        assert not loaded.training and not any(m.training for m in loaded.modules())
        x = torch.randint(0, 512, (1, 9))
        assert torch.equal(loaded(x).logits, loaded(x).logits)  # dropout off: the same logits twice


def test_damaged_model_files_are_named(tmp_path):
    GPT2Model(GPT2Config.from_preset("tiny")).save_pretrained(tmp_path)
    weights = (tmp_path / "model.safetensors").read_bytes()
    (tmp_path / "model.safetensors").write_bytes(weights[: len(weights) // 2])
    with pytest.raises(ValueError, match=r"model\.safetensors is damaged .*save_pretrained"):
        from_pretrained(tmp_path)
    (tmp_path / "config.json").write_text("garbage")
    with pytest.raises(ValueError, match=r"config\.json is damaged \(not JSON"):
        from_pretrained(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2", "n_layers": "two"}))
    with pytest.raises(ValueError, match=r"config\.json does not describe a GPT2Model"):
        GPT2Model.from_pretrained(tmp_path)
