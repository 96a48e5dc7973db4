"""Options shared by the stage commands, and the one place that turns a bad input or a fault into a clean CLI error.

The error contract: a mistake of the user's or a damaged file prints `error: <what>; <how to fix>` and exits 2; a
fault during a run (a NaN loss, a filesystem error) prints the same one line and exits 1. `--debug` (on `ailab` or
on any command) or `AILAB_DEBUG=1` shows the traceback instead.
"""

from __future__ import annotations

import errno
import functools
import inspect
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from ailab.trainers import NonFiniteLossError
from pipeline.params import ParamsError

ParamsOption = Annotated[
    Path,
    typer.Option(
        "--params", help="The pipeline's params file (one section per concern: docs/pipeline.md).", show_default=True
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
DebugOption = Annotated[
    bool, typer.Option("--debug", help="Show the Python traceback of an error (same as AILAB_DEBUG=1).")
]
DEBUG_ENV = "AILAB_DEBUG"
F = TypeVar("F", bound=Callable[..., Any])

USER_ERRORS = (ParamsError, FileNotFoundError, ValueError, TypeError)
"""A mistake in the inputs or a damaged file: exit status 2."""
FAULTS = (NonFiniteLossError, OSError)
"""Something that went wrong during a run (FileNotFoundError excepted, which is a missing input): exit status 1."""

_MAKE_WRITABLE = "make it writable for you (chmod u+w) or work in another directory, then run the command again"
_MOVE_FILE_AWAY = "a file stands where a directory belongs; move it away, then run the command again"
_OS_ERROR_FIXES = {
    errno.ENOSPC: "free disk space (or lower train.save_total_limit), then run the command again",
    errno.EFBIG: "the file outgrew the file size limit (ulimit -f); raise it, then run the command again",
    errno.EDQUOT: "free space within your disk quota, then run the command again",
    errno.EACCES: _MAKE_WRITABLE,
    errno.EPERM: _MAKE_WRITABLE,
    errno.EROFS: "the filesystem is read-only; work in a writable directory",
    errno.EEXIST: _MOVE_FILE_AWAY,
    errno.ENOTDIR: _MOVE_FILE_AWAY,
    errno.EISDIR: "a directory stands where a file belongs; move it away, then run the command again",
}


def debug_enabled() -> bool:
    """True when tracebacks are wanted: `--debug` was given or AILAB_DEBUG is set to anything but 0/empty."""
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


def enable_debug(debug: bool) -> None:
    """Turn on tracebacks for this process and the processes it starts (`--debug`)."""
    if debug:
        os.environ[DEBUG_ENV] = "1"


def describe_os_error(err: OSError) -> str:
    """`<path>: <reason>; <how to fix>` for a filesystem error, the path being the file the error is about."""
    where = err.filename if err.filename is not None else "a file"
    if err.filename2 is not None:
        where = f"{where} -> {err.filename2}"
    reason = err.strerror or str(err)
    fix = _OS_ERROR_FIXES.get(err.errno, "fix the cause, then run the command again")
    return f"{where}: {reason}; {fix}"


def error_message(err: BaseException) -> str:
    """The one-line message printed after `error: `."""
    if isinstance(err, OSError) and not isinstance(err, FileNotFoundError):
        return describe_os_error(err)
    return str(err)


def exit_status(err: BaseException) -> int:
    """2 for a bad input (a missing file included), 1 for a fault during the run."""
    if isinstance(err, FAULTS) and not isinstance(err, FileNotFoundError):
        return 1
    return 2


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    typer.secho(f"warning: {message}", fg=typer.colors.YELLOW, err=True)


def reports_errors(command: F) -> F:
    """Run a command under the error contract (see the module docstring); adds its `--debug` option.

    Library warnings print as one `warning: ...` line each; deprecation notices are for developers and stay hidden
    (shown with `--debug`).
    """
    signature = inspect.signature(command, eval_str=True)
    debug_param = inspect.Parameter("debug", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=DebugOption)

    @functools.wraps(command)
    def wrapper(*args: Any, debug: bool = False, **kwargs: Any) -> Any:
        enable_debug(debug)
        try:
            with warnings.catch_warnings():
                if not debug_enabled():
                    warnings.showwarning = _show_warning
                    warnings.simplefilter("ignore", DeprecationWarning)  # libraries' notes to developers, not users
                return command(*args, **kwargs)
        except USER_ERRORS + FAULTS as err:
            if debug_enabled():
                raise
            typer.secho(f"error: {error_message(err)}", fg=typer.colors.RED, err=True)
            sys.exit(exit_status(err))

    wrapper.__signature__ = signature.replace(parameters=[*signature.parameters.values(), debug_param])
    wrapper.__annotations__ = {**command.__annotations__, "debug": DebugOption}
    return wrapper  # type: ignore[return-value]
