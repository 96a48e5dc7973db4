"""Atomic file output: a crash mid-write never replaces a good file with a half-written one.

A write goes to a temporary `.NAME.PID-RANDOM.tmp` beside its target and is renamed over it when complete. A
process killed mid-write (SIGKILL) leaves its temporary behind; the next write of the same target removes those whose
writer PID is no longer running, so a concurrent writer's temporary is never touched.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, fsync it, then rename it over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent, path.name)
    fd, tmp = make_temporary_file(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        named = with_filename(err, path)
        if named is err:
            raise
        raise named from err
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def make_temporary_file(path: Path) -> tuple[int, str]:
    """`mkstemp` beside `path`, named as this module's temporaries, with the permissions the umask gives."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}-", suffix=".tmp", dir=path.parent)
    os.chmod(tmp, umask_mode(0o666))  # mkstemp makes owner-only files; give the usual permissions
    return fd, tmp


def umask_mode(mode: int) -> int:
    """`mode` as the process's umask lets a new file or directory have it (0o666 -> 0o644 under umask 022)."""
    return mode & ~_umask()


def with_filename(err: OSError, path: str | os.PathLike) -> OSError:
    """`err` itself when it names a file or has no errno; else the same error naming `path` (a failed write names
    no file)."""
    if err.filename is not None or err.errno is None:
        return err
    return type(err)(err.errno, err.strerror or os.strerror(err.errno), str(path))


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """UTF-8 text version of `atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    """Pretty-printed JSON (sorted keys, trailing newline) written atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


@contextmanager
def atomic_directory(final_dir: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temporary directory beside `final_dir`; on success it replaces `final_dir`.

    On an exception the temporary directory is removed and `final_dir` is left untouched.
    """
    final_dir = Path(final_dir)
    final_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(final_dir.parent, final_dir.name)
    tmp = final_dir.with_name(f".{final_dir.name}.{os.getpid()}-{uuid.uuid4().hex[:12]}.tmp")
    tmp.mkdir()  # not mkdtemp: that makes an owner-only directory, and this one becomes the output
    try:
        yield tmp
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        named = _naming_final(with_filename(err, final_dir), tmp, final_dir)
        if named is err:
            raise
        raise named from err
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if final_dir.exists():
        old = final_dir.with_name(f".{final_dir.name}.{os.getpid()}-old.tmp")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final_dir, old)
    os.replace(tmp, final_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _naming_final(err: OSError, tmp: Path, final_dir: Path) -> OSError:
    """`err` with a path inside the temporary directory shown as the same path inside `final_dir`."""
    if isinstance(err.filename, str) and err.filename.startswith(str(tmp)):
        return type(err)(err.errno, err.strerror, str(final_dir) + err.filename[len(str(tmp)) :])
    return err


_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)-[^/]*\.tmp$")


def remove_stale_temporaries(directory: str | os.PathLike, name_pattern: str) -> list[Path]:
    """Delete the temporaries in `directory` of targets matching the glob `name_pattern` whose writer has died.

    Returns what was deleted. A temporary whose PID runs (the writer, or a process that reused its PID) is kept.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    removed = []
    for entry in directory.iterdir():
        match = _TEMPORARY.match(entry.name)
        if match and fnmatch.fnmatchcase(match["name"], name_pattern) and not _is_running(int(match["pid"])):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def _is_running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
