"""Options shared by the stage commands, and the one place that turns a bad input into a clean CLI error."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from pipeline.params import ParamsError

ParamsOption = Annotated[
    Path,
    typer.Option(
        "--params", help="The pipeline's params file (one section per concern; see README).", show_default=True
    ),
]
DeviceOption = Annotated[
    str,
    typer.Option(
        "--device",
        envvar="AILAB_DEVICE",
        help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps. Kept out of params.yaml so a move to a GPU "
        "does not invalidate DVC's cache.",
    ),
]

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(command: F) -> F:
    """Print a bad-input error (params, files, shapes) as one message, exit status 2 (`AILAB_DEBUG=1`: traceback)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (ParamsError, FileNotFoundError, ValueError) as err:
            if os.environ.get("AILAB_DEBUG"):
                raise
            typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]
