"""`ailab sample MODEL_DIR`: streams the prompt's continuation from a saved model (final or checkpoint directory)."""

import torch
import typer
from typer.testing import CliRunner

from ailab.generation import generate_text
from ailab.models import build_model
from stages.sample import sample

from .conftest import make_model

app = typer.Typer()
app.command("sample")(sample)
app.command("noop")(lambda: None)  # a second command keeps "sample" a subcommand, as in the real CLI
runner = CliRunner()


def test_sample_streams_the_same_text_as_generate_text(bpe_tokenizer, tmp_path):
    model_dir = tmp_path / "checkpoint-12"
    model = make_model("llama", vocab_size=bpe_tokenizer.vocab_size, eos_token_id=bpe_tokenizer.eos_token_id, std=0.1)
    model.save_pretrained(model_dir)
    bpe_tokenizer.save(model_dir)
    args = [
        "sample",
        str(model_dir),
        "--prompt",
        "The cat",
        "--max-new-tokens",
        "30",
        "--temperature",
        "0.8",
        "--top-p",
        "0.9",
        "--seed",
        "1",
        "--device",
        "cpu",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    expected = generate_text(model, bpe_tokenizer, "The cat", max_new_tokens=30, temperature=0.8, top_p=0.9, seed=1)
    assert len(expected) > 5
    assert result.output == "The cat" + expected + "\n"
    assert runner.invoke(app, args).output == result.output  # same seed, same sample


def test_sample_help_and_missing_model(tmp_path):
    result = runner.invoke(app, ["sample", "--help"])
    assert result.exit_code == 0 and "--max-new-tokens" in result.output and "checkpoint" in result.output
    result = runner.invoke(app, ["sample", str(tmp_path / "nothing")])
    assert result.exit_code == 2
    assert "error:" in result.output


def test_sample_with_a_tokenizer_larger_than_the_model_names_the_id(bpe_tokenizer, tmp_path):
    model_dir = tmp_path / "model"
    make_model("gpt2", vocab_size=8, eos_token_id=0).save_pretrained(model_dir)  # ids 0..7 only
    bpe_tokenizer.save(model_dir)
    result = runner.invoke(app, ["sample", str(model_dir), "--prompt", "The cat", "--device", "cpu"])
    assert result.exit_code == 2, result.output
    highest = max(bpe_tokenizer.encode("The cat"))
    assert f"error: token id {highest} in input_ids is outside the model's vocabulary (vocab_size=8" in result.output
    assert "Traceback" not in result.output


def test_sample_prints_the_prompt_only_after_checking_the_options(bpe_tokenizer, tmp_path):
    model = make_model("gpt2", vocab_size=bpe_tokenizer.vocab_size, eos_token_id=bpe_tokenizer.eos_token_id)
    model.save_pretrained(tmp_path)
    bpe_tokenizer.save(tmp_path)
    common = ["sample", str(tmp_path), "--prompt", "The cat", "--device", "cpu"]
    refused = runner.invoke(app, [*common, "--top-p", "2"])
    assert refused.exit_code == 2 and refused.output.startswith("error: top_p must be in (0, 1]"), refused.output
    nothing_new = runner.invoke(app, [*common, "--max-new-tokens", "0"])
    assert nothing_new.exit_code == 0 and nothing_new.output == "The cat\n"


def test_sample_compile_streams_the_uncompiled_greedy_text(bpe_tokenizer, tmp_path):
    """--compile runs Inductor on the one-token step (a one-layer model keeps the compile short)."""
    torch.manual_seed(0)
    model = build_model(
        "gpt2", vocab_size=bpe_tokenizer.vocab_size, n_ctx=64, n_layers=1, d_model=32, n_heads=2, eos_token_id=None
    )
    model.save_pretrained(tmp_path)
    bpe_tokenizer.save(tmp_path)
    args = ["sample", str(tmp_path), "--prompt", "The cat", "--max-new-tokens", "20", "--temperature", "0"]
    eager = runner.invoke(app, [*args, "--device", "cpu"])
    compiled = runner.invoke(app, [*args, "--device", "cpu", "--compile"])
    assert eager.exit_code == 0 and compiled.exit_code == 0, compiled.output
    assert len(eager.output) > len("The cat") + 5
    assert compiled.output == eager.output
