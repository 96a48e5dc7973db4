"""Checkpoint files: `output_dir/checkpoint-STEP/` written atomically, found, pruned, and read back safely.

A checkpoint folder holds
- `model.safetensors` + `config.json`  (the model's own `save_pretrained`),
- `training_state.pt`   optimizer, scheduler, scaler, data position, trainer counters and RNG states; only tensors
                        and plain containers, read with `torch.load(weights_only=True)` so loading never runs code,
- `trainer_state.json`  readable metadata: step, loss, the TrainingConfig, the resume config and its fingerprint,
- the tokenizer's files, when the trainer was given a tokenizer with `save(dir)`.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file
from torch import nn

from ailab.io import atomic_directory, atomic_write_json

CHECKPOINT_PATTERN = re.compile(r"^checkpoint-(\d+)$")
TRAINING_STATE_FILE = "training_state.pt"
TRAINER_STATE_FILE = "trainer_state.json"
WEIGHTS_FILE = "model.safetensors"


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
    """The newest complete checkpoint in `output_dir`, or None."""
    checkpoints = list_checkpoints(output_dir)
    return checkpoints[-1] if checkpoints else None


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
        torch.save(training_state, tmp / TRAINING_STATE_FILE)
        atomic_write_json(tmp / TRAINER_STATE_FILE, metadata)


def load_training_state(path: Path) -> dict[str, Any]:
    """Read `training_state.pt` without executing any pickled code."""
    return torch.load(path / TRAINING_STATE_FILE, map_location="cpu", weights_only=True)


def load_metadata(path: Path) -> dict[str, Any]:
    return json.loads((path / TRAINER_STATE_FILE).read_text())


def load_model_weights(model: nn.Module, path: Path) -> None:
    """Copy `model.safetensors` into `model` in place (the optimizer keeps pointing at the same parameters).

    Keys absent from the file are accepted only for tied parameters that share storage with a loaded one.
    """
    state = load_file(str(path / WEIGHTS_FILE))
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
