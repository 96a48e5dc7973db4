"""Where every stage reads and writes, defined once; `dvc.yaml` names the same paths.

All paths are relative to the pipeline root (the directory holding `dvc.yaml`, where DVC runs the stages),
so a copy of the pipeline in another directory writes only there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SPLITS = ("train", "validation")
"""The packed corpus splits, in the order `prepare` writes them."""


@dataclass(frozen=True)
class PipelinePaths:
    """The pipeline's files under one root directory."""

    root: Path = Path(".")

    @property
    def tokenizer_dir(self) -> Path:
        return self.root / "artifacts" / "tokenizer"

    @property
    def corpus_dir(self) -> Path:
        return self.root / "artifacts" / "corpus"

    def tokens(self, split: str) -> Path:
        """Packed token file of a split (`train` or `validation`); its JSON sidecar sits beside it."""
        return self.corpus_dir / f"{split}.bin"

    @property
    def model_dir(self) -> Path:
        return self.root / "artifacts" / "model"

    @property
    def checkpoints_dir(self) -> Path:
        """Resumable training checkpoints; kept out of DVC so an interrupted `train` can resume."""
        return self.root / "outputs" / "checkpoints"

    @property
    def train_lock(self) -> Path:
        """Held by the running `train` (its PID in `train.lock.pid` beside it), so a second one refuses."""
        return self.root / "outputs" / "train.lock"

    @property
    def tokenizer_report(self) -> Path:
        return self.root / "reports" / "tokenizer" / "stats.json"

    @property
    def corpus_report_dir(self) -> Path:
        return self.root / "reports" / "corpus"

    @property
    def prepare_report(self) -> Path:
        return self.root / "reports" / "prepare" / "stats.json"

    @property
    def train_report_dir(self) -> Path:
        return self.root / "reports" / "train"

    @property
    def training_curves(self) -> Path:
        """Loss, learning rate, grad norm and tokens/s at every log step, drawn by `dvc plots show`."""
        return self.train_report_dir / "curves.tsv"

    @property
    def eval_curves(self) -> Path:
        """Evaluation loss by step (a row per evaluation), drawn on one plot with the training loss."""
        return self.train_report_dir / "eval.tsv"

    @property
    def train_run(self) -> Path:
        """The MLflow run id of the last training, so `evaluate` and `generate` log into the same run."""
        return self.train_report_dir / "mlflow_run.json"

    @property
    def eval_metrics(self) -> Path:
        return self.root / "reports" / "eval" / "metrics.json"

    @property
    def samples_dir(self) -> Path:
        return self.root / "reports" / "samples"
