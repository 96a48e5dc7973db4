"""Checkpoint files: `output_dir/checkpoint-STEP/` written atomically, found, pruned, and read back safely.

A checkpoint folder holds
- `model.safetensors` + `config.json`  (the model's own `save_pretrained`),
- `training_state.pt`   optimizer, scheduler, scaler, data position, trainer counters and RNG states; only tensors
                        and plain containers, read with `torch.load(weights_only=True)` so loading never runs code,
- `trainer_state.json`  readable metadata: step, loss, the TrainingConfig, the resume config and its fingerprint,
- the tokenizer's files, when the trainer was given a tokenizer with `save(dir)`.

A checkpoint whose files cannot be read back (truncated by a full disk or a kill, or a `training_state.pt` holding
anything but tensors and plain containers) is damaged: resuming from "latest" skips it with a warning naming it and
continues from the newest intact one; none is ever deleted for being damaged.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import random
import re
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn

from ailab.io import atomic_directory, atomic_write_bytes, atomic_write_json, remove_stale_temporaries

CHECKPOINT_PATTERN = re.compile(r"^checkpoint-(\d+)$")
TRAINING_STATE_FILE = "training_state.pt"
TRAINER_STATE_FILE = "trainer_state.json"
WEIGHTS_FILE = "model.safetensors"
START_OVER = "train from step 0 instead (`ailab train --restart`, or a new output_dir)"


class DamagedCheckpointError(ValueError):
    """A checkpoint file that cannot be read back: truncated, garbled, or not written by ailab."""

    def __init__(self, problem: str, fix: str = START_OVER) -> None:
        super().__init__(f"{problem}; {fix}")
        self.problem = problem


@dataclass
class Checkpoint:
    """Everything one checkpoint folder holds, read and checked: its metadata, training state and weights."""

    path: Path
    metadata: dict[str, Any]
    training_state: dict[str, Any]
    weights: dict[str, torch.Tensor]


def checkpoint_dir(output_dir: str | Path, step: int) -> Path:
    return Path(output_dir) / f"checkpoint-{step}"


def list_checkpoints(output_dir: str | Path) -> list[Path]:
    """Complete checkpoints in `output_dir`, oldest step first (temporary folders of a crashed save are ignored)."""
    output_dir = Path(output_dir)
    if not output_dir.is_dir():
        return []
    found = []
    for path in output_dir.iterdir():
        match = CHECKPOINT_PATTERN.match(path.name)
        if match and (path / TRAINER_STATE_FILE).is_file():
            found.append((int(match.group(1)), path))
    return [path for _, path in sorted(found)]


def latest_checkpoint(output_dir: str | Path) -> Path | None:
    """The newest complete checkpoint in `output_dir`, or None (its files are not read: see `newest_intact`)."""
    checkpoints = list_checkpoints(output_dir)
    return checkpoints[-1] if checkpoints else None


def read_checkpoint(path: Path) -> Checkpoint:
    """All of checkpoint folder `path`; DamagedCheckpointError naming the file that cannot be read."""
    path = Path(path)
    return Checkpoint(path, load_metadata(path), load_training_state(path), read_checkpoint_weights(path))


def newest_intact_checkpoint(output_dir: str | Path) -> Checkpoint | None:
    """The newest checkpoint in `output_dir` whose files all read back, warning about each damaged one skipped.

    None when there is no checkpoint; DamagedCheckpointError when there are some but none is intact.
    """
    damaged = []
    for path in reversed(list_checkpoints(output_dir)):
        try:
            found = read_checkpoint(path)
        except DamagedCheckpointError as err:
            damaged.append(err.problem)
            continue
        for message in damaged:
            warnings.warn(f"skipping a damaged checkpoint: {message}; resuming from {path}", stacklevel=2)
        return found
    if damaged:
        raise DamagedCheckpointError(f"no intact checkpoint in {output_dir}, so training cannot resume: {damaged}")
    return None


def remove_stale_checkpoint_temporaries(output_dir: str | Path) -> list[Path]:
    """Delete the half-written `.checkpoint-STEP.*.tmp` folders that killed trainers left in `output_dir`."""
    return remove_stale_temporaries(output_dir, "checkpoint-*")


def prune_checkpoints(output_dir: str | Path, keep: int) -> list[Path]:
    """Delete all but the `keep` newest checkpoints; returns the deleted folders."""
    doomed = list_checkpoints(output_dir)[:-keep]
    for path in doomed:
        shutil.rmtree(path)
    return doomed


def save_checkpoint(
    path: Path,
    *,
    save_model: Callable[[Path], None],
    training_state: dict[str, Any],
    metadata: dict[str, Any],
) -> None:
    """Write one checkpoint folder atomically: a crash mid-save leaves any previous `path` and the others intact."""
    with atomic_directory(path) as tmp:
        save_model(tmp)
        state_bytes = io.BytesIO()  # torch.save to a file turns a full disk into an opaque RuntimeError
        torch.save(training_state, state_bytes)
        atomic_write_bytes(tmp / TRAINING_STATE_FILE, state_bytes.getvalue())
        atomic_write_json(tmp / TRAINER_STATE_FILE, metadata)


def load_training_state(path: Path) -> dict[str, Any]:
    """Read `training_state.pt` without executing any pickled code (DamagedCheckpointError if it is not valid)."""
    file = Path(path) / TRAINING_STATE_FILE
    try:
        with warnings.catch_warnings():  # torch's warnings about what it refuses to unpickle point at unsafe loading
            warnings.filterwarnings("ignore", message=".*weights_only.*")
            state = torch.load(file, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # from None: torch's own message proposes the unsafe weights_only=False, which must never be followed here
        raise DamagedCheckpointError(
            f"{file} is not a valid ailab checkpoint file: it holds objects other than tensors and plain containers, "
            "which are never loaded"
        ) from None
    except (RuntimeError, EOFError, OSError) as err:
        if isinstance(err, FileNotFoundError):
            raise DamagedCheckpointError(f"{file} is missing") from err
        raise DamagedCheckpointError(f"{file} is damaged ({_first_line(err)})") from err
    if not isinstance(state, dict):
        raise DamagedCheckpointError(f"{file} is not a valid ailab checkpoint file (no training state in it)")
    return state


def load_metadata(path: Path) -> dict[str, Any]:
    """`trainer_state.json` of checkpoint folder `path` (DamagedCheckpointError if it is not a JSON object)."""
    file = Path(path) / TRAINER_STATE_FILE
    try:
        metadata = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, OSError) as err:
        raise DamagedCheckpointError(f"{file} is damaged ({_first_line(err)})") from err
    if not isinstance(metadata, dict) or not {"step", "resume_config"} <= set(metadata):
        raise DamagedCheckpointError(f"{file} is not a valid ailab checkpoint file (no step and resume_config in it)")
    return metadata


def read_checkpoint_weights(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of the checkpoint's `model.safetensors` (DamagedCheckpointError if it is truncated or garbled)."""
    file = Path(path) / WEIGHTS_FILE
    try:
        return load_file(str(file))
    except (SafetensorError, OSError) as err:
        raise DamagedCheckpointError(f"{file} is damaged ({_first_line(err)})") from err


def _first_line(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def load_model_weights(model: nn.Module, path: Path, state: dict[str, torch.Tensor] | None = None) -> None:
    """Copy `model.safetensors` (or its already read `state`) into `model` in place; the optimizer keeps pointing
    at the same parameters.

    Keys absent from the file are accepted only for tied parameters that share storage with a loaded one.
    """
    state = read_checkpoint_weights(path) if state is None else state
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected:
        raise ValueError(f"{path / WEIGHTS_FILE} has weights the model does not: {unexpected}")
    loaded_storage = {t.untyped_storage().data_ptr() for k, t in model.state_dict().items() if k in state}
    untied = [k for k in missing if model.state_dict()[k].untyped_storage().data_ptr() not in loaded_storage]
    if untied:
        raise ValueError(f"{path / WEIGHTS_FILE} lacks weights the model needs: {untied}")


def rng_state() -> dict[str, Any]:
    """Every RNG state that training touches, as tensors and plain containers (weights_only-loadable)."""
    np_state = np.random.get_state(legacy=False)
    state = {
        "python": random.getstate(),
        "numpy": {
            "key": torch.from_numpy(np_state["state"]["key"].astype(np.int64)),
            "pos": int(np_state["state"]["pos"]),
            "has_gauss": int(np_state["has_gauss"]),
            "gauss": float(np_state["gauss"]),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what `rng_state` captured."""
    random.setstate(_as_tuples(state["python"]))
    np_state = state["numpy"]
    key = np_state["key"].numpy().astype(np.uint32)
    np.random.set_state(("MT19937", key, np_state["pos"], np_state["has_gauss"], np_state["gauss"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _as_tuples(value: Any) -> Any:
    """random.setstate needs the nested tuples it produced (a round trip may give lists)."""
    if isinstance(value, (list, tuple)):
        return tuple(_as_tuples(v) for v in value)
    return value


def config_fingerprint(resume_config: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of the settings that must match for an exact resume."""
    return hashlib.sha256(json.dumps(resume_config, sort_keys=True).encode()).hexdigest()


def resume_config_differences(saved: dict[str, Any], current: dict[str, Any], prefix: str = "") -> list[str]:
    """Human-readable `key: checkpoint X, now Y` lines for every differing (nested) key."""
    lines = []
    for key in sorted(set(saved) | set(current)):
        a, b = saved.get(key, "<absent>"), current.get(key, "<absent>")
        if isinstance(a, dict) and isinstance(b, dict):
            lines += resume_config_differences(a, b, prefix=f"{prefix}{key}.")
        elif a != b:
            lines.append(f"{prefix}{key}: checkpoint {a!r}, now {b!r}")
    return lines
