"""Proof against transformers: export loads with AutoModelForCausalLM and import reads HF models, logits equal."""

from pathlib import Path

import pytest
import torch
import transformers
import typer
from typer.testing import CliRunner

from ailab.models import GPT2Config, LlamaConfig, build_model
from ailab.models.hf import export_hf, from_hf, to_hf_config
from ailab.tokenizers import StrippedAsciiTokenizer, Tokenizer, load_tokenizer
from stages.export_hf import export_hf as export_hf_command

VOCAB = 512
CASES = {
    "gpt2-tied": ("gpt2", dict(GPT2Config.presets["tiny"], bos_token_id=0, eos_token_id=1)),
    "gpt2-untied": ("gpt2", dict(GPT2Config.presets["tiny"], tie_embeddings=False)),
    "llama-mha-untied": ("llama", dict(LlamaConfig.presets["tiny"], n_kv_heads=4, rope_theta=500.0)),
    "llama-gqa-untied": ("llama", dict(LlamaConfig.presets["tiny"], n_kv_heads=2)),
    "llama-mha-tied": ("llama", dict(LlamaConfig.presets["tiny"], n_kv_heads=4, tie_embeddings=True)),
    "llama-gqa-tied": ("llama", dict(LlamaConfig.presets["tiny"], n_kv_heads=1, tie_embeddings=True, norm_eps=1e-6)),
}
HF_CLASS = {"gpt2": transformers.GPT2LMHeadModel, "llama": transformers.LlamaForCausalLM}


def random_ids(B=2, T=24, seed=0):
    return torch.randint(0, VOCAB, (B, T), generator=torch.Generator().manual_seed(seed))


@torch.no_grad()
def assert_same_logits(ailab_model, hf_model, x, attention_mask=None):
    ours = ailab_model.eval()(x, attention_mask=attention_mask).logits
    position_ids = None
    if attention_mask is not None:  # transformers derives positions from the mask only inside generate()
        position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    theirs = hf_model.eval()(x, attention_mask=attention_mask, position_ids=position_ids).logits
    if attention_mask is not None:  # padding positions are garbage in both: compare real tokens only
        ours, theirs = ours[attention_mask.bool()], theirs[attention_mask.bool()]
    torch.testing.assert_close(ours, theirs, atol=1e-4, rtol=0)


@pytest.mark.parametrize("case", CASES)
def test_export_loads_with_auto_model_and_gives_the_same_logits(tmp_path, case):
    arch, fields = CASES[case]
    torch.manual_seed(0)
    model = build_model(arch, **fields)
    export_hf(model, tmp_path / "hf")
    assert (tmp_path / "hf" / "model.safetensors").is_file()
    hf_model = transformers.AutoModelForCausalLM.from_pretrained(tmp_path / "hf")
    assert type(hf_model) is HF_CLASS[arch]
    hf_config, config = hf_model.config, model.config
    assert hf_config.vocab_size == config.vocab_size and hf_config.tie_word_embeddings == config.tie_embeddings
    assert (hf_model.lm_head.weight is hf_model.get_input_embeddings().weight) == config.tie_embeddings
    if arch == "gpt2":
        assert (hf_config.n_positions, hf_config.layer_norm_epsilon) == (config.n_ctx, config.layer_norm_eps)
    else:
        assert (hf_config.max_position_embeddings, hf_config.rms_norm_eps) == (config.n_ctx, config.norm_eps)
        assert hf_config.num_key_value_heads == config.n_kv_heads
        assert hf_config.rope_parameters["rope_theta"] == config.rope_theta
    assert (hf_config.bos_token_id, hf_config.eos_token_id) == (config.bos_token_id, config.eos_token_id)
    assert_same_logits(model, hf_model, random_ids())


@pytest.mark.parametrize("case", CASES)
def test_import_from_hf_instance_and_directory(tmp_path, case):
    arch, fields = CASES[case]
    torch.manual_seed(1)
    hf_model = HF_CLASS[arch](to_hf_config(build_model(arch, **fields).config))  # weights from HF's own init
    model = from_hf(hf_model)
    ours, expected = model.config.to_dict(), build_model(arch, **fields).config.to_dict()
    ours.pop("multiple_of", None), expected.pop("multiple_of", None)  # unused once d_ff is given
    assert ours == expected
    assert_same_logits(model, hf_model, random_ids(seed=1))
    if case in ("gpt2-tied", "llama-gqa-untied"):  # from a directory too, as a downloaded checkpoint would be
        hf_model.save_pretrained(tmp_path)
        assert_same_logits(from_hf(tmp_path), hf_model, random_ids(seed=2))


@pytest.mark.parametrize("case", ["gpt2-tied", "llama-gqa-untied"])
def test_left_padded_batch_matches_hf(case):
    arch, fields = CASES[case]
    torch.manual_seed(2)
    hf_model = HF_CLASS[arch](to_hf_config(build_model(arch, **fields).config))
    attention_mask = torch.ones(3, 12, dtype=torch.long)
    attention_mask[0, :5] = 0
    attention_mask[1, :1] = 0
    assert_same_logits(from_hf(hf_model), hf_model, random_ids(B=3, T=12, seed=3), attention_mask)


def test_unsupported_hf_models_say_what_is_unsupported():
    base = dict(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=4)
    scaled = transformers.LlamaConfig(**base, rope_parameters={"rope_type": "linear", "factor": 2.0, "rope_theta": 1e4})
    with pytest.raises(ValueError, match="unsupported rope scaling \\(rope_type='linear'\\)"):
        from_hf(transformers.LlamaForCausalLM(scaled))
    with pytest.raises(ValueError, match="attention_bias=True"):
        from_hf(transformers.LlamaForCausalLM(transformers.LlamaConfig(**base, attention_bias=True)))
    relu = transformers.GPT2Config(
        vocab_size=64, n_positions=16, n_embd=32, n_layer=1, n_head=4, activation_function="relu"
    )
    with pytest.raises(ValueError, match="activation_function='relu'"):
        from_hf(transformers.GPT2LMHeadModel(relu))
    with pytest.raises(TypeError, match="got Linear"):
        from_hf(torch.nn.Linear(2, 2))


def test_export_with_tokenizer_and_without_a_convertible_one(tmp_path):
    tokenizer = StrippedAsciiTokenizer()
    model = build_model(
        "gpt2", **dict(GPT2Config.presets["tiny"], vocab_size=tokenizer.vocab_size, eos_token_id=tokenizer.eos_token_id)
    )
    export_hf(model, tmp_path / "hf", tokenizer=tokenizer)
    hf_tokenizer = transformers.AutoTokenizer.from_pretrained(tmp_path / "hf")
    assert isinstance(hf_tokenizer, transformers.PreTrainedTokenizerFast)
    text = "Once upon a time, a cat sat."
    assert hf_tokenizer(text)["input_ids"] == tokenizer.encode(text)

    class NoHfTokenizer(StrippedAsciiTokenizer):
        to_hf_tokenizer = Tokenizer.to_hf_tokenizer  # the base class's "no transformers equivalent"

    with pytest.warns(UserWarning, match="without its tokenizer: NoHfTokenizer has no transformers equivalent"):
        export_hf(model, tmp_path / "model-only", tokenizer=NoHfTokenizer())
    assert transformers.AutoModelForCausalLM.from_pretrained(tmp_path / "model-only") is not None


def test_export_hf_command(tmp_path):
    app = typer.Typer()
    app.command("export-hf")(export_hf_command)
    tokenizer = StrippedAsciiTokenizer()
    torch.manual_seed(3)
    model = build_model(
        "llama",
        **dict(LlamaConfig.presets["tiny"], vocab_size=tokenizer.vocab_size, bos_token_id=None, eos_token_id=None),
    )
    model.save_pretrained(tmp_path / "model")
    tokenizer.save(tmp_path / "model")
    assert load_tokenizer(tmp_path / "model").vocab_size == tokenizer.vocab_size

    result = CliRunner().invoke(app, [str(tmp_path / "model"), str(tmp_path / "hf")])
    assert result.exit_code == 0, result.output
    hf_model = transformers.AutoModelForCausalLM.from_pretrained(tmp_path / "hf")
    assert_same_logits(model, hf_model, torch.randint(0, tokenizer.vocab_size, (1, 10)))
    assert (Path(tmp_path / "hf") / "tokenizer.json").is_file()

    help_text = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"}).output
    assert "AutoModelForCausalLM" in help_text and "model_dir" in help_text.lower()
    missing = CliRunner().invoke(app, [str(tmp_path / "nowhere"), str(tmp_path / "out")])
    assert missing.exit_code == 2 and "no config.json" in missing.output
