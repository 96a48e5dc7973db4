"""Saving and loading models: `config.json` (the config plus `model_type`) and `model.safetensors` (the weights).

Both files are written atomically, one by one, so a tokenizer saved in the same directory is left alone.
Tied output weights are stored once (under the input embedding's name) and re-tied on load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import safetensors.torch
import torch
from torch import nn

from ailab.io import atomic_write_bytes, atomic_write_json
from ailab.models.config import ModelConfig

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"

RESAVE_FIX = "save the model there again with model.save_pretrained(dir), or copy the directory from a good copy"

M = TypeVar("M", bound="PretrainedMixin")


def read_config_dict(model_dir: str | Path) -> dict[str, Any]:
    """The JSON of `model_dir/config.json`, with errors that say how such a directory is made."""
    path = Path(model_dir) / CONFIG_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no {CONFIG_NAME} in {model_dir}: save a model there with model.save_pretrained(dir)")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is damaged (not JSON: {err}); {RESAVE_FIX}") from err
    if not isinstance(config, dict):
        raise ValueError(f"{path} is damaged (not a JSON object); {RESAVE_FIX}")
    if "architectures" in config or "transformers_version" in config:
        raise ValueError(
            f"{path} is a Hugging Face transformers config; load it with ailab.models.hf.from_hf({str(model_dir)!r})"
        )
    if "model_type" not in config:
        raise ValueError(f"{path} has no model_type; it must be 'gpt2' or 'llama' (written by model.save_pretrained)")
    return config


def read_weights(path: Path, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file; a truncated or garbled file is a ValueError naming it."""
    try:
        return safetensors.torch.load_file(path, device=str(device))
    except safetensors.SafetensorError as err:
        raise ValueError(f"{path} is damaged (not a complete safetensors file: {err}); {RESAVE_FIX}") from err


class PretrainedMixin:
    """`save_pretrained`, `from_pretrained`, `num_parameters` for an `nn.Module` with a `config` and `tied_weights`."""

    config_class: ClassVar[type[ModelConfig]]
    config: ModelConfig
    tied_weights: ClassVar[tuple[str, str]]  # (output name, input name) shared when config.tie_embeddings

    def num_parameters(self) -> int:
        """Number of parameters; tied embeddings count once."""
        return sum(p.numel() for p in self.parameters())

    def save_pretrained(self, save_dir: str | Path) -> None:
        """Write `config.json` and `model.safetensors` into `save_dir` (created if needed)."""
        save_dir = Path(save_dir)
        state = {name: t.detach().contiguous().cpu() for name, t in self.state_dict().items()}
        if self.config.tie_embeddings:
            del state[self.tied_weights[0]]
        atomic_write_bytes(save_dir / WEIGHTS_NAME, safetensors.torch.save(state, metadata={"format": "pt"}))
        atomic_write_json(save_dir / CONFIG_NAME, self.config.to_dict())

    @classmethod
    def from_pretrained(cls: type[M], model_dir: str | Path, device: torch.device | str = "cpu") -> M:
        """The model saved in `model_dir` by `save_pretrained`, bit for bit, in eval mode (as transformers does)."""
        config_dict = read_config_dict(model_dir)
        config_path, weights = Path(model_dir) / CONFIG_NAME, Path(model_dir) / WEIGHTS_NAME
        try:
            config = cls.config_class.from_dict(config_dict)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{config_path} does not describe a {cls.__name__}: {err}; {RESAVE_FIX}") from err
        if not weights.is_file():
            raise FileNotFoundError(f"no {WEIGHTS_NAME} in {model_dir}: save the model with model.save_pretrained(dir)")
        with torch.device(device):
            model = cls(config)
        state = read_weights(weights, device)
        try:
            model.load_weights(state)
        except ValueError as err:
            raise ValueError(f"{weights} does not fit {config_path}: {err}; {RESAVE_FIX}") from err
        return model.eval()

    def load_weights(self: nn.Module, state: dict[str, torch.Tensor]) -> None:
        """Copy `state` into the model, failing with the names of missing or unexpected weights."""
        missing, unexpected = self.load_state_dict(state, strict=False)
        if self.config.tie_embeddings:
            missing = [name for name in missing if name != self.tied_weights[0]]
        if missing or unexpected:
            raise ValueError(
                f"weights do not match {type(self).__name__}({self.config}): missing {missing}, unexpected {unexpected}"
            )
