"""Atomic outputs: a failure mid-write never replaces a good file or directory."""

import os
import resource
import signal
import stat
import subprocess
import sys
from collections.abc import Callable

import pytest

from ailab.io import (
    atomic_directory,
    atomic_write_json,
    atomic_write_text,
    remove_stale_temporaries,
)


def test_atomic_write_replaces_and_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "sub" / "metrics.json"
    atomic_write_json(target, {"b": 1, "a": 2})
    atomic_write_json(target, {"val_loss": 1.5})
    assert target.read_text() == '{\n  "val_loss": 1.5\n}\n'
    assert os.listdir(target.parent) == ["metrics.json"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_umask()


def test_a_failed_write_keeps_the_previous_file(tmp_path):
    target = tmp_path / "out.json"
    atomic_write_text(target, "good")
    with pytest.raises(TypeError):
        atomic_write_json(target, {"not serialisable": object()})
    assert target.read_text() == "good" and os.listdir(tmp_path) == ["out.json"]


def test_atomic_directory_swaps_in_a_complete_directory(tmp_path):
    final = tmp_path / "model"
    with atomic_directory(final) as tmp:
        (tmp / "weights").write_text("v1")
    with atomic_directory(final) as tmp:
        assert not (tmp / "weights").exists()  # each write starts empty
        (tmp / "weights").write_text("v2")
    assert (final / "weights").read_text() == "v2"
    assert os.listdir(tmp_path) == ["model"]
    assert stat.S_IMODE(final.stat().st_mode) == 0o777 & ~_umask()


def test_a_failure_inside_atomic_directory_keeps_the_old_one(tmp_path):
    final = tmp_path / "model"
    with atomic_directory(final) as tmp:
        (tmp / "weights").write_text("good")
    with pytest.raises(RuntimeError), atomic_directory(final) as tmp:
        (tmp / "weights").write_text("half")
        raise RuntimeError("crash mid-save")
    assert (final / "weights").read_text() == "good" and os.listdir(tmp_path) == ["model"]


def dead_pid() -> int:
    """The PID of a process that has exited (and been reaped)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_stale_temporaries_of_dead_writers_go_and_a_live_writers_stay(tmp_path):
    dead = dead_pid()
    stale_dir = tmp_path / f".model.{dead}-abc.tmp"
    stale_file = tmp_path / f".metrics.json.{dead}-xyz.tmp"
    live = tmp_path / f".model.{os.getpid()}-def.tmp"
    other_target = tmp_path / f".corpus.{dead}-abc.tmp"
    for folder in (stale_dir, live, other_target):
        folder.mkdir()
        (folder / "weights").write_text("half")
    stale_file.write_text("half")
    assert remove_stale_temporaries(tmp_path, "model") == [stale_dir]
    assert live.is_dir() and other_target.is_dir()
    atomic_write_json(tmp_path / "metrics.json", {})  # each write sweeps its own target's stale temporaries
    with atomic_directory(tmp_path / "corpus"):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["corpus", "metrics.json", live.name])


def file_size_limit(limit: int) -> Callable[[], None]:
    """A `preexec_fn` after which the child's writes past `limit` bytes fail with EFBIG, as at the end of a full disk.

    Only ever in a child: a lowered limit in pytest itself would cut off its own log once that passes `limit`.
    """

    def lower_limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))

    return lower_limit


FULL_DISK_CHILD = """
import errno, os, sys
from pathlib import Path
from ailab.io import atomic_directory, atomic_write_bytes

folder, limit = Path(sys.argv[1]), int(sys.argv[2])
target = folder / "model.safetensors"
atomic_write_bytes(target, b"good")
try:
    atomic_write_bytes(target, b"x" * (2 * limit))
except OSError as error:
    print(errno.errorcode[error.errno], error.filename)
try:
    with atomic_directory(folder / "checkpoint-2") as tmp:
        atomic_write_bytes(tmp / "training_state.pt", b"x" * (2 * limit))
except OSError as error:
    print(errno.errorcode[error.errno], error.filename)
"""


def test_a_write_that_fills_the_disk_names_the_file_and_keeps_the_old_one(tmp_path):
    limit = 4096
    child = subprocess.run(
        [sys.executable, "-c", FULL_DISK_CHILD, str(tmp_path), str(limit)],
        capture_output=True,
        text=True,
        preexec_fn=file_size_limit(limit),
        check=True,
    )
    target = tmp_path / "model.safetensors"
    assert child.stdout.splitlines() == [
        f"EFBIG {target}",
        f"EFBIG {tmp_path / 'checkpoint-2' / 'training_state.pt'}",  # the final path, not the temporary one
    ]
    assert target.read_bytes() == b"good" and os.listdir(tmp_path) == ["model.safetensors"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
