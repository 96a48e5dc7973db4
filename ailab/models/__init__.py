"""GPT-2 and LLaMA written from scratch in PyTorch, with save/load and Hugging Face import/export (`ailab.models.hf`).

from ailab.models import build_model, from_pretrained
model = build_model("llama", **LlamaConfig.presets["tiny"])
out = model(input_ids, labels=input_ids)   # out.logits, out.loss, out.kv_cache
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ailab.models.config import ModelConfig
from ailab.models.gpt2 import GPT2_PRESETS, GPT2Config, GPT2Model
from ailab.models.llama import LLAMA_PRESETS, LlamaConfig, LlamaModel
from ailab.models.outputs import CausalLMOutput
from ailab.models.pretrained import read_config_dict

MODEL_CLASSES: dict[str, type[GPT2Model] | type[LlamaModel]] = {"gpt2": GPT2Model, "llama": LlamaModel}


def _model_class(arch: str) -> type[GPT2Model] | type[LlamaModel]:
    if arch not in MODEL_CLASSES:
        raise ValueError(f"unknown model architecture {arch!r}; choose one of {sorted(MODEL_CLASSES)}")
    return MODEL_CLASSES[arch]


def build_model(arch: str, **config_fields: Any) -> GPT2Model | LlamaModel:
    """A freshly initialised model of architecture `arch` ("gpt2" or "llama") with these config fields."""
    cls = _model_class(arch)
    return cls(cls.config_class.from_dict(config_fields))


def from_pretrained(model_dir: str | Path, device: torch.device | str = "cpu") -> GPT2Model | LlamaModel:
    """The model saved in `model_dir` by `save_pretrained`, of the class its config's model_type names."""
    return _model_class(read_config_dict(model_dir)["model_type"]).from_pretrained(model_dir, device=device)


__all__ = [
    "MODEL_CLASSES",
    "CausalLMOutput",
    "GPT2_PRESETS",
    "GPT2Config",
    "GPT2Model",
    "LLAMA_PRESETS",
    "LlamaConfig",
    "LlamaModel",
    "ModelConfig",
    "build_model",
    "from_pretrained",
]
