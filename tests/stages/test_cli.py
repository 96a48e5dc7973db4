"""The `ailab` console script: one command per stage with a --help that explains it, and clean errors."""

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from stages.cli import app

STAGE_COMMANDS = ["train-tokenizer", "prepare", "dump-corpus", "train", "evaluate", "generate"]
runner = CliRunner()


def test_help_lists_every_stage_and_tool():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in STAGE_COMMANDS + ["sample", "export-hf"]:
        assert command in result.output


@pytest.mark.parametrize("command", STAGE_COMMANDS)
def test_each_stage_explains_itself_and_takes_params(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "--params" in result.output
    assert "Writes" in result.output  # the docstring says what the stage produces


@pytest.mark.parametrize("command", STAGE_COMMANDS)
def test_a_misspelt_key_stops_every_stage_with_its_name(command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("params.yaml").write_text(yaml.safe_dump({"train": {"learning_rat": 0.1}}))
    result = runner.invoke(app, [command, "--params", "params.yaml"])
    assert result.exit_code == 2
    assert "train.learning_rat: unknown key; did you mean 'learning_rate'?" in result.output
    assert not Path("artifacts").exists() and not Path("reports").exists()


def test_a_stage_without_its_inputs_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("params.yaml").write_text("{}\n")
    result = runner.invoke(app, ["prepare"])
    assert result.exit_code == 2
    assert "artifacts/tokenizer" in result.output


def test_a_misspelt_command_is_answered_with_the_closest_ones():
    result = runner.invoke(app, ["trian"])
    assert result.exit_code == 2
    assert "No such command 'trian'. Did you mean 'train'?" in result.output
