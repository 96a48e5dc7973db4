"""`DocumentFraming`: how documents were laid out in the packed training stream, kept so generation can match it.

`pack_documents` writes every document as `[BOS] text EOS` (BOS only when `add_bos`), back to back, so in the stream
every document but the first starts right after the *separator*, the previous document's EOS and then BOS when
`add_bos`. A model only ever saw a document begin in that context; generation therefore starts a prompt with the
same separator (`document_start`), and evaluation refuses data framed differently from the model's training data.

Where it is saved: in the packed corpus's sidecar (the keys `add_bos`, `bos_token_id`, `eos_token_id`, which every
sidecar since format version 1 has) and, as `framing.json`, in every model directory the trainer writes (the final
model and each checkpoint), beside the tokenizer files. The framing belongs with the tokenizer rather than the
model config because it is about turning text into ids (as `add_bos_token` in a transformers `tokenizer_config.json`):
`load_tokenizer(dir)` reads it into `tokenizer.framing`, so `generate_text(from_pretrained(dir),
load_tokenizer(dir), ...)` uses it with no extra argument, and the model's config (and so a resumed run's settings
and a transformers export) is unchanged. A directory saved before framing was recorded has no `framing.json`:
`tokenizer.framing` is None and generation keeps the old behaviour (BOS first when the tokenizer has one).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ailab.io import atomic_write_json

FRAMING_FILE = "framing.json"
"""The framing's file in a model or tokenizer directory."""


@dataclass(frozen=True)
class DocumentFraming:
    """Where BOS and EOS sit around each document of a packed token stream."""

    add_bos: bool
    """True when BOS precedes each document's text."""
    bos_token_id: int | None
    """The tokenizer's BOS id (None when it has none); written into the stream only when `add_bos`."""
    eos_token_id: int
    """The EOS id that follows each document's text and so separates it from the next."""

    def __post_init__(self) -> None:
        if self.add_bos and self.bos_token_id is None:
            raise ValueError("add_bos=True needs a bos_token_id; the tokenizer has no BOS token, set add_bos=False")

    @classmethod
    def from_tokenizer(cls, tokenizer: Any, add_bos: bool) -> DocumentFraming:
        """The framing `pack_documents(..., tokenizer, add_bos=add_bos)` writes."""
        if tokenizer.eos_token_id is None:
            raise ValueError(f"{tokenizer!r} has no EOS token: packing needs one to mark where each document ends")
        if add_bos and tokenizer.bos_token_id is None:
            raise ValueError(f"add_bos=True but {tokenizer!r} has no BOS token; set add_bos=False")
        return cls(add_bos=add_bos, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)

    @property
    def prefix(self) -> list[int]:
        """Ids written before each document's text."""
        return [self.bos_token_id] if self.add_bos else []

    @property
    def suffix(self) -> list[int]:
        """Ids written after each document's text."""
        return [self.eos_token_id]

    @property
    def document_start(self) -> list[int]:
        """The separator: the ids just before every document's text in the stream (all but the first document)."""
        return self.suffix + self.prefix

    def frame(self, text_ids: list[int]) -> list[int]:
        """One document's ids as they go into the stream: prefix, text, suffix."""
        return self.prefix + text_ids + self.suffix

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "framing") -> DocumentFraming:
        """Read the framing keys of `data` (a `to_dict()` or a packed corpus's sidecar; other keys are ignored)."""
        try:
            add_bos, bos, eos = data["add_bos"], data["bos_token_id"], data["eos_token_id"]
        except (KeyError, TypeError) as e:
            raise ValueError(f"{source} has no document framing ({e}); expected the keys {_KEYS}") from None
        if not isinstance(add_bos, bool) or not _is_id(eos) or not (bos is None or _is_id(bos)):
            raise ValueError(
                f"{source}: invalid document framing {dict((k, data[k]) for k in _KEYS)}: add_bos must be true or "
                "false and the token ids non-negative integers (bos_token_id may be null)"
            )
        try:
            return cls(add_bos=add_bos, bos_token_id=bos, eos_token_id=eos)
        except ValueError as e:
            raise ValueError(f"{source}: {e}") from None

    def save(self, directory: str | os.PathLike) -> None:
        """Write `framing.json` into `directory` (atomically)."""
        atomic_write_json(Path(directory) / FRAMING_FILE, self.to_dict())

    @classmethod
    def load(cls, directory: str | os.PathLike) -> DocumentFraming | None:
        """The framing saved in `directory`, or None when it has none (a directory saved before it was recorded)."""
        path = Path(directory) / FRAMING_FILE
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"{path} is not a readable framing file ({e}); save the model again or delete it") from e
        return cls.from_dict(data, source=str(path))

    def describe(self) -> str:
        """The layout in words, e.g. "<BOS=1> text <EOS=2>"."""
        bos = f"<BOS={self.bos_token_id}> " if self.add_bos else ""
        return f"{bos}text <EOS={self.eos_token_id}>"


_KEYS = ("add_bos", "bos_token_id", "eos_token_id")


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def framing_of(dataset: Any) -> DocumentFraming | None:
    """The framing of a dataset read from a packed token file (`dataset.framing` or `dataset.packed.framing`);
    None when the dataset does not say."""
    framing = getattr(dataset, "framing", None)
    if framing is None:
        framing = getattr(getattr(dataset, "packed", None), "framing", None)
    return framing if isinstance(framing, DocumentFraming) else None


def prompt_ids(tokenizer: Any, prompt: str) -> list[int]:
    """The ids generation starts from: the separator of `tokenizer.framing`, then the prompt's tokens.

    Without a recorded framing (`tokenizer.framing` None: a model saved before framing was recorded, or a tokenizer
    never trained with), the prompt starts with BOS when the tokenizer has one, as before.
    """
    framing = getattr(tokenizer, "framing", None)
    if framing is None:
        return tokenizer.encode(prompt, add_bos=tokenizer.bos_token_id is not None)
    return framing.document_start + tokenizer.encode(prompt)


def check_same_framing(data: DocumentFraming, data_source: str, model: DocumentFraming | None, model_dir: str) -> None:
    """Raise ValueError when data framed as `data` would be scored by a model trained on another framing."""
    if model is not None and model != data:
        raise ValueError(
            f"{data_source} frames documents as {data.describe()} but the model in {model_dir} was trained on "
            f"{model.describe()}; re-run prepare with the same corpus.add_bos as the training data (dvc repro)"
        )
