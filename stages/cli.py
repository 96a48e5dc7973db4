"""The `ailab` console script: one command per DVC stage, plus tools to look at and export trained models.

Commands are loaded lazily: `ailab train` imports `stages.train` and what it imports, never another stage's module,
so each stage in dvc.yaml depends on its own code plus this file (tests/test_dvc_deps.py checks it). `ailab --help`
imports every command module to list them with their help.
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any

import typer
from typer.core import TyperGroup

from stages.options import DebugOption, enable_debug

COMMANDS: dict[str, tuple[str, str]] = {
    "train-tokenizer": ("stages.train_tokenizer", "main"),
    "prepare": ("stages.prepare", "main"),
    "dump-corpus": ("stages.dump_corpus", "main"),
    "train": ("stages.train", "main"),
    "evaluate": ("stages.evaluate", "main"),
    "generate": ("stages.generate", "main"),
    "sample": ("stages.sample", "sample"),
    "export-hf": ("stages.export_hf", "export_hf"),
}
"""Command name -> (module, function): the function's signature and docstring make the command."""


def load_command(name: str) -> Any:
    """The command `ailab NAME` runs, built from its stage function (importing only that module)."""
    module, function = COMMANDS[name]
    single = typer.Typer(add_completion=False, pretty_exceptions_show_locals=False)
    single.command(name)(getattr(importlib.import_module(module), function))
    command = typer.main.get_command(single)
    command.name = name
    return command


class LazyCommands(TyperGroup):
    """A command group that imports a command's module only when that command is run or listed."""

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return None
        if cmd_name not in self.commands:
            self.commands[cmd_name] = load_command(cmd_name)
        return self.commands[cmd_name]

    def resolve_command(self, ctx: typer.Context, args: list[str]) -> tuple[str | None, Any, list[str]]:
        name = args[0] if args else ""
        matches = difflib.get_close_matches(name, list(COMMANDS))
        if name not in COMMANDS and matches and not name.startswith("-"):
            ctx.fail(f"No such command {name!r}. Did you mean {', '.join(map(repr, matches))}?")
        return super().resolve_command(ctx, args)


app = typer.Typer(
    name="ailab",
    cls=LazyCommands,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def ailab(debug: DebugOption = False) -> None:
    """Train GPT-2 and LLaMA language models from scratch. Each pipeline stage is a command here; `dvc repro` runs
    them in order with the arguments in dvc.yaml. `ailab --debug COMMAND` shows the traceback of an error."""
    enable_debug(debug)
