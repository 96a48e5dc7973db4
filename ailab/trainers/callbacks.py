"""Training events and the built-in callbacks: a progress display and the CSV/TSV metrics tables (DVC plots).

Callbacks run on rank 0 only. Each event receives the `TrainerState` and its payload; subclass `TrainerCallback`
and override only the events you need.
"""

from __future__ import annotations

import csv
import io
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ailab.io import atomic_write_text


@dataclass
class TrainerState:
    """Counters of a run, saved in every checkpoint and passed to every callback."""

    global_step: int = 0
    """Optimizer steps completed."""
    max_steps: int = 0
    epoch: float = 0.0
    """Fractional epoch: micro-batches read / micro-batches per epoch."""
    best_eval_loss: float | None = None
    last_eval_loss: float | None = None
    last_checkpoint: str | None = None
    """Path of the newest checkpoint written or resumed from in this run, if any."""

    def state_dict(self) -> dict[str, Any]:
        return asdict(self)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            setattr(self, key, value)


class TrainerCallback:
    """Base class: every event is a no-op."""

    def on_train_begin(self, state: TrainerState) -> None: ...

    def on_step_end(self, state: TrainerState) -> None: ...

    def on_log(self, state: TrainerState, logs: dict[str, float]) -> None: ...

    def on_evaluate(self, state: TrainerState, metrics: dict[str, float]) -> None: ...

    def on_save(self, state: TrainerState, checkpoint_dir: Path) -> None: ...

    def on_train_end(self, state: TrainerState) -> None: ...


class ProgressCallback(TrainerCallback):
    """A tqdm bar (step, loss, lr, tokens/s, ETA) on a terminal; one plain line per log event otherwise."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream
        self.bar = None
        self.start_time = 0.0
        self.start_step = 0

    def _stream(self) -> Any:
        return self.stream if self.stream is not None else sys.stderr

    def on_train_begin(self, state: TrainerState) -> None:
        self.start_time, self.start_step = time.perf_counter(), state.global_step
        if self._stream().isatty():
            from tqdm.auto import tqdm

            self.bar = tqdm(total=state.max_steps, initial=state.global_step, desc="train", file=self._stream())

    def on_step_end(self, state: TrainerState) -> None:
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)

    def on_log(self, state: TrainerState, logs: dict[str, float]) -> None:
        if self.bar is not None:
            self.bar.set_postfix(
                loss=f"{logs['loss']:.4f}", lr=f"{logs['learning_rate']:.2e}", tok_s=_si(logs["tokens_per_second"])
            )
            return
        elapsed = time.perf_counter() - self.start_time
        done = state.global_step - self.start_step
        eta = elapsed / done * (state.max_steps - state.global_step) if done else math.nan
        print(
            f"step {state.global_step}/{state.max_steps} | loss {logs['loss']:.4f} | lr {logs['learning_rate']:.2e} "
            f"| grad_norm {logs['grad_norm']:.3f} | {_si(logs['tokens_per_second'])} tok/s | eta {_duration(eta)}",
            file=self._stream(),
            flush=True,
        )

    def on_evaluate(self, state: TrainerState, metrics: dict[str, float]) -> None:
        message = f"step {state.global_step}: eval_loss {metrics['eval_loss']:.4f} (best {state.best_eval_loss:.4f})"
        if self.bar is not None:
            self.bar.write(message)
        else:
            print(message, file=self._stream(), flush=True)

    def on_train_end(self, state: TrainerState) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class StepTable:
    """A CSV/TSV table with one row per step, kept in memory and rewritten atomically on every change.

    A kill never leaves a torn row, and `load(up_to_step)` drops the rows a resumed run is about to write again.
    """

    def __init__(self, path: str | Path, columns: tuple[str, ...], delimiter: str | None = None) -> None:
        self.path = Path(path)
        self.columns = columns
        self.delimiter = delimiter or ("\t" if self.path.suffix == ".tsv" else ",")
        self.rows: dict[int, dict[str, str]] = {}

    def load(self, up_to_step: int) -> None:
        """Keep the file's rows of steps <= `up_to_step` (none if there is no file) and rewrite it with only those."""
        self.rows = {}
        if self.path.is_file():
            with self.path.open(newline="") as f:
                for row in csv.DictReader(f, delimiter=self.delimiter):
                    if row.get("step") and int(row["step"]) <= up_to_step:
                        self.rows[int(row["step"])] = {c: row.get(c, "") or "" for c in self.columns}
        self.write()

    def update(self, step: int, values: dict[str, float]) -> None:
        row = self.rows.setdefault(step, {c: "" for c in self.columns})
        row["step"] = str(step)
        row.update({k: f"{v:.6g}" for k, v in values.items() if k in self.columns and k != "step"})
        self.write()

    def write(self) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.columns, delimiter=self.delimiter, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows[step] for step in sorted(self.rows))
        atomic_write_text(self.path, buffer.getvalue())


class CsvLoggerCallback(TrainerCallback):
    """Tables for DVC plots, keyed by step: `path` gets `step, loss, learning_rate, grad_norm, tokens_per_second` at
    every log event, `eval_path` gets `step, eval_loss` at every evaluation (default: `<name>_eval<suffix>` beside
    `path`), so neither file has a column that is empty on most rows.

    On (re)start, rows after the step being resumed from are dropped from both: they belong to the lost future, and
    the resumed run writes them again. The files must therefore survive until then (in DVC: `persist: true`).
    """

    COLUMNS = ("step", "loss", "learning_rate", "grad_norm", "tokens_per_second")
    EVAL_COLUMNS = ("step", "eval_loss")

    def __init__(self, path: str | Path, eval_path: str | Path | None = None, delimiter: str | None = None) -> None:
        path = Path(path)
        eval_path = Path(eval_path) if eval_path is not None else path.with_name(f"{path.stem}_eval{path.suffix}")
        self.curves = StepTable(path, self.COLUMNS, delimiter)
        self.evaluations = StepTable(eval_path, self.EVAL_COLUMNS, delimiter)

    @property
    def path(self) -> Path:
        return self.curves.path

    @property
    def delimiter(self) -> str:
        return self.curves.delimiter

    def on_train_begin(self, state: TrainerState) -> None:
        self.curves.load(up_to_step=state.global_step)
        self.evaluations.load(up_to_step=state.global_step)

    def on_log(self, state: TrainerState, logs: dict[str, float]) -> None:
        self.curves.update(state.global_step, logs)

    def on_evaluate(self, state: TrainerState, metrics: dict[str, float]) -> None:
        self.evaluations.update(state.global_step, metrics)


def _si(value: float) -> str:
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return f"{value / scale:.1f}{unit}"
    return f"{value:.0f}"


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"
