"""Corpora for language modelling: where documents come from, how they are packed into token files, and the
PyTorch datasets that read them.

    spec = CorpusSpec(source="local", path="data/tinystories/train.txt")
    splits = load_corpus(spec)                                   # {"train": docs, "validation": docs}
    pack_documents(splits["train"], tokenizer, "data/train.bin") # parallel, bounded memory, + train.json sidecar
    train = PackedWindowDataset("data/train.bin", window=256)    # windows read straight from the memmap
"""

from ailab.datasets.causal_lm import CausalLmDataset, StreamingCausalLmDataset
from ailab.datasets.corpus_report import write_corpus_report
from ailab.datasets.packing import PackedTokens, pack_documents
from ailab.datasets.sources import CorpusSpec, load_corpus
from ailab.datasets.windows import PackedWindowDataset

__all__ = [
    "CausalLmDataset",
    "CorpusSpec",
    "PackedTokens",
    "PackedWindowDataset",
    "StreamingCausalLmDataset",
    "load_corpus",
    "pack_documents",
    "write_corpus_report",
]


def __getattr__(name: str):
    # The story generator is imported on first use: it is only needed for source="builtin".
    if name == "generate_builtin_corpus":
        from ailab.datasets.builtin_corpus import generate_builtin_corpus

        return generate_builtin_corpus
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
