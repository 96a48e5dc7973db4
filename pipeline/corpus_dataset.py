"""The packed corpus as MLflow dataset inputs, so a run's Dataset column says what it trained on.

Each split is one dataset: its name says where the text came from and which split, its source is the packed token
file, its digest is the DVC hash of the packed corpus directory (what `dvc.lock` records for `artifacts/corpus`,
computed the way DVC computes it), and its profile holds the token, document and byte counts of the split.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

from mlflow.data.dataset_source_registry import resolve_dataset_source
from mlflow.data.meta_dataset import MetaDataset

from ailab.datasets.packing import sidecar_path
from pipeline.params import DataParams

CHUNK_BYTES = 1 << 20


def file_md5(path: Path) -> str:
    """The md5 of a file's bytes, read in chunks (what DVC 3 records for a file)."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def dvc_dir_md5(directory: Path) -> str:
    """The hash DVC records for a directory output: md5 of its sorted `{md5, relpath}` manifest, then `.dir`."""
    entries = sorted(
        ({"md5": file_md5(path), "relpath": path.relative_to(directory).as_posix()} for path in directory.rglob("*")
         if path.is_file()),
        key=lambda entry: entry["relpath"],
    )  # fmt: skip
    return hashlib.md5(json.dumps(entries, sort_keys=True).encode("utf-8")).hexdigest() + ".dir"


def corpus_name(data: DataParams) -> str:
    """A short name for where the text came from: `builtin-stories`, the hub dataset id or the local path."""
    if data.source == "hf":
        return str(data.name)
    if data.source == "local":
        return str(data.path)
    return "builtin-stories"


class PackedCorpusSplit(MetaDataset):
    """One packed split: a `MetaDataset` (no data loaded into MLflow) with the split's counts as its profile."""

    def __init__(self, packed_file: Path, name: str, digest: str, profile: dict[str, Any]) -> None:
        self._profile = profile
        with warnings.catch_warnings():  # MLflow registers the local source under two schemes ("" and file) alike
            warnings.filterwarnings("ignore", "The specified dataset source can be interpreted in multiple ways")
            source = resolve_dataset_source(packed_file.as_posix())
        super().__init__(source, name=name, digest=digest)

    @property
    def profile(self) -> dict[str, Any]:
        return self._profile

    def to_dict(self) -> dict[str, str]:
        return {**super().to_dict(), "profile": json.dumps(self._profile)}


def corpus_splits(corpus_dir: Path, data: DataParams, splits: tuple[str, ...]) -> list[PackedCorpusSplit]:
    """A dataset for each packed split `corpus_dir/<split>.bin`, all with the directory's DVC hash as digest.

    The source is the packed file's path as given (relative to the pipeline root for the stages).
    """
    digest = dvc_dir_md5(corpus_dir)
    datasets = []
    for split in splits:
        packed = corpus_dir / f"{split}.bin"
        meta = json.loads(sidecar_path(packed).read_text(encoding="utf-8"))
        profile = {k: meta[k] for k in ("num_tokens", "num_documents", "num_bytes", "vocab_size") if k in meta}
        datasets.append(PackedCorpusSplit(packed, f"{corpus_name(data)}/{split}", digest, profile))
    return datasets
