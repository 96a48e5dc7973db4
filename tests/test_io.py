"""Atomic outputs: a failure mid-write never replaces a good file or directory."""

import os
import stat

import pytest

from ailab.io import atomic_directory, atomic_write_json, atomic_write_text


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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
