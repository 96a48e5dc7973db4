"""Corpora for language modelling: where documents come from, how they are packed into token files, and the
PyTorch datasets that read them.

    spec = CorpusSpec(source="local", path="data/tinystories/train.txt")
    splits = load_corpus(spec)                                   # {"train": docs, "validation": docs}
    pack_documents(splits["train"], tokenizer, "data/train.bin") # parallel, bounded memory, + train.json sidecar
    train = PackedWindowDataset("data/train.bin", window=256)    # windows read straight from the memmap

Names are imported on first use (PEP 562), so the packing worker processes started with "spawn" import numpy and
the tokenizer only, not torch (~10 s on a loaded 2-core machine).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_SUBMODULE_OF = {
    "CausalLmDataset": "causal_lm",
    "StreamingCausalLmDataset": "causal_lm",
    "write_corpus_report": "corpus_report",
    "PackedTokens": "packing",
    "pack_documents": "packing",
    "CorpusSpec": "sources",
    "load_corpus": "sources",
    "PackedWindowDataset": "windows",
    "generate_builtin_corpus": "builtin_corpus",
}

__all__ = sorted(_SUBMODULE_OF)

if TYPE_CHECKING:  # names for type checkers; at run time they are imported on first use
    from ailab.datasets.builtin_corpus import generate_builtin_corpus  # noqa: F401
    from ailab.datasets.causal_lm import CausalLmDataset, StreamingCausalLmDataset  # noqa: F401
    from ailab.datasets.corpus_report import write_corpus_report  # noqa: F401
    from ailab.datasets.packing import PackedTokens, pack_documents  # noqa: F401
    from ailab.datasets.sources import CorpusSpec, load_corpus  # noqa: F401
    from ailab.datasets.windows import PackedWindowDataset  # noqa: F401


def __getattr__(name: str):
    if name not in _SUBMODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_SUBMODULE_OF[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
