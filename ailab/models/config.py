"""What every model config shares: a plain dataclass that round-trips through a dict and names its presets."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, TypeVar

C = TypeVar("C", bound="ModelConfig")


@dataclasses.dataclass
class ModelConfig:
    """Base of `GPT2Config` and `LlamaConfig`: `to_dict`/`from_dict`, presets by exact name, value checks."""

    model_type: ClassVar[str] = ""
    presets: ClassVar[dict[str, dict[str, Any]]] = {}

    def to_dict(self) -> dict[str, Any]:
        """All fields plus `model_type`, as JSON-ready values (what `config.json` holds)."""
        return {"model_type": self.model_type, **dataclasses.asdict(self)}

    @classmethod
    def from_dict(cls: type[C], d: dict[str, Any]) -> C:
        """Inverse of `to_dict`; rejects another architecture's config and unknown keys by name."""
        d = dict(d)
        model_type = d.pop("model_type", cls.model_type)
        if model_type != cls.model_type:
            raise ValueError(
                f"{cls.__name__} cannot read a config with model_type={model_type!r}; "
                f"load it with ailab.models.from_pretrained, which picks the class from model_type"
            )
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown {cls.__name__} field(s) {unknown}; valid fields: {sorted(names)}")
        return cls(**d)

    @classmethod
    def from_preset(cls: type[C], name: str, **overrides: Any) -> C:
        """The preset called exactly `name`, with any field replaced by `overrides` (e.g. `vocab_size=`)."""
        if name not in cls.presets:
            raise ValueError(f"no {cls.__name__} preset named {name!r}; choose one of {sorted(cls.presets)}")
        return cls.from_dict({**cls.presets[name], **overrides})


def check_positive(config: ModelConfig, *names: str) -> None:
    """Raise ValueError unless each named field is a positive number."""
    for name in names:
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ValueError(f"{type(config).__name__}.{name} must be a positive number; got {value!r}")


def check_token_id(config: ModelConfig, name: str) -> None:
    """Raise ValueError unless the named token id is None or inside the vocabulary."""
    value = getattr(config, name)
    if value is not None and not (isinstance(value, int) and 0 <= value < config.vocab_size):
        raise ValueError(
            f"{type(config).__name__}.{name}={value!r} is outside the vocabulary "
            f"[0, {config.vocab_size}); set it to the tokenizer's id or None"
        )


def check_dropout(config: ModelConfig) -> None:
    """Raise ValueError unless 0 <= dropout < 1."""
    if not 0.0 <= config.dropout < 1.0:
        raise ValueError(f"{type(config).__name__}.dropout must be in [0, 1); got {config.dropout}")
