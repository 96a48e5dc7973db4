"""params.yaml is validated once: every bad key or value is named with a fix."""

from pathlib import Path

import pytest
import yaml

from pipeline.params import Params, ParamsError, load_params, params_from_dict

ROOT = Path(__file__).resolve().parents[2]


def test_repository_params_are_the_documented_defaults():
    assert load_params(ROOT / "params.yaml") == Params()


def test_flat_names_every_param_with_its_section():
    flat = Params().flat()
    assert flat["model.d_model"] == 128
    assert flat["train.learning_rate"] == pytest.approx(2e-3)
    assert flat["generate.prompts"][0] == "Once upon a time"
    assert {k.split(".")[0] for k in flat} == {"data", "tokenizer", "corpus", "model", "train", "eval", "generate"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"model": {"d_mdoel": 64}}, "model.d_mdoel: unknown key; did you mean 'd_model'?"),
        ({"modle": {}}, "modle: unknown key; did you mean 'model'?"),
        ({"model": {"d_model": 130, "n_heads": 4}}, "model.d_model (130) must be divisible by model.n_heads (4)"),
        (
            {"model": {"arch": "llama", "n_heads": 4, "n_kv_heads": 3}},
            "model.n_heads (4) must be divisible by model.n_kv_heads (3)",
        ),
        ({"model": {"n_kv_heads": 2}}, "model.n_kv_heads applies to arch 'llama' only"),
        ({"train": {"max_steps": "many"}}, "train.max_steps: Input should be a valid integer"),
        ({"train": {"learning_rate": -1}}, "train.learning_rate: Input should be greater than 0"),
        ({"train": {"min_learning_rate": 1.0}}, "train.min_learning_rate (1.0) is above train.learning_rate"),
        (
            {"tokenizer": {"kind": "wordpiece"}},
            "tokenizer.kind: Input should be 'bpe', 'ascii', 'sentencepiece' or 'tinystories-bpe-8k'",
        ),
        (
            {"tokenizer": {"kind": "tinystories-bpe-8k", "vocab_size": 4096}},
            "tokenizer.vocab_size: tokenizer kind 'tinystories-bpe-8k' is pre-trained with exactly 8192 tokens",
        ),
        ({"data": {"source": "hf"}}, "data.name is required when data.source is 'hf'"),
        ({"generate": {"top_p": 1.5}}, "generate.top_p: Input should be less than or equal to 1"),
    ],
)
def test_bad_params_name_the_key_and_the_fix(raw, expected):
    with pytest.raises(ParamsError) as err:
        params_from_dict(raw)
    assert expected in str(err.value)


def test_load_params_reports_the_file(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump({"train": {"batch_size": 0}}))
    with pytest.raises(ParamsError, match=r"params.yaml: invalid parameters:\n  - train.batch_size"):
        load_params(path)
    with pytest.raises(ParamsError, match="no such params file"):
        load_params(tmp_path / "missing.yaml")
    path.write_text("model: [unclosed")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(path)


def test_model_params_become_a_buildable_config():
    from ailab.models import build_model

    params = params_from_dict({"model": {"arch": "llama", "n_layers": 1, "d_model": 32, "n_heads": 4, "n_kv_heads": 2}})
    model = build_model("llama", **params.model.config_fields(vocab_size=50, bos_token_id=1, eos_token_id=2))
    assert model.config.n_kv_heads == 2 and model.config.vocab_size == 50
    gpt2 = params_from_dict({"model": {"n_layers": 1, "d_model": 32, "n_heads": 4}})
    model = build_model("gpt2", **gpt2.model.config_fields(vocab_size=50, bos_token_id=None, eos_token_id=0))
    assert model.config.d_ff == 128


@pytest.mark.parametrize("vocab_size", [8192, None])
def test_pretrained_tokenizer_kind_takes_its_own_vocab_size_or_none(vocab_size):
    tokenizer = params_from_dict({"tokenizer": {"kind": "tinystories-bpe-8k", "vocab_size": vocab_size}}).tokenizer
    assert (tokenizer.kind, tokenizer.vocab_size) == ("tinystories-bpe-8k", vocab_size)


def test_data_params_map_onto_the_library_corpus_spec():
    spec = params_from_dict({"data": {"num_stories": 100, "seed": 3}}).data.corpus_spec()
    assert (spec.source, spec.num_stories, spec.seed) == ("builtin", 100, 3)


def test_train_params_become_the_trainer_config(tmp_path):
    train = params_from_dict({"train": {"batch_size": 4, "adam_beta2": 0.99, "max_grad_norm": None}}).train
    config = train.training_config(tmp_path / "checkpoints", device="cpu")
    assert config.output_dir == str(tmp_path / "checkpoints") and config.device == "cpu"
    assert (config.train_batch_size, config.adam_betas, config.max_grad_norm) == (4, (0.9, 0.99), 0.0)
    assert (config.max_steps, config.learning_rate, config.warmup_steps) == (300, 2e-3, 30)
