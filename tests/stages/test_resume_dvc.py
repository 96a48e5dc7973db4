"""A training killed twice under real `dvc repro` and resumed by plain `dvc repro`: the curves hold every step once,
`dvc plots show` draws them as dvc.yaml says (training and evaluation loss on one plot, no half-empty column), and a
change to model code makes `train` stale and not the stages before it."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

TINY = {
    "data": {"num_stories": 300, "validation_fraction": 0.1},
    "tokenizer": {"kind": "ascii"},
    "corpus": {"num_proc": 1, "dump_windows": 1, "dump_window_length": 32},
    "model": {"n_ctx": 32, "n_layers": 1, "d_model": 16, "n_heads": 2},
    "train": {
        "max_steps": 300, "batch_size": 4, "warmup_steps": 5, "eval_steps": 50, "eval_batches": 2,
        "save_steps": 25, "save_total_limit": None, "logging_steps": 5,
    },
}  # fmt: skip
MAX_STEPS, LOGGING_STEPS, EVAL_STEPS = 300, 5, 50

pytestmark = pytest.mark.slow


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DVC_"))}
    return {**env, "AILAB_DEVICE": "cpu", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture
def repo(tmp_path) -> Path:
    """A git + DVC repo holding the pipeline with tiny params; the stages before `train` already reproduced."""
    for name in ("ailab", "stages", "pipeline"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "dvc.yaml", tmp_path / "dvc.yaml")
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for section, values in TINY.items():
        params[section].update(values)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (tmp_path / ".gitignore").write_text("/mlflow.db\n/mlartifacts/\n/outputs/\n__pycache__/\n")
    for args in (["git", "init", "-q"], ["dvc", "init", "-q"], ["dvc", "config", "core.analytics", "false"]):
        run(args, tmp_path)
    run(["dvc", "repro", "prepare"], tmp_path)
    return tmp_path


def table(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def newest_checkpoint_step(repo: Path) -> int:
    steps = [
        int(p.name.split("-")[1]) for p in (repo / "outputs/checkpoints").glob("checkpoint-*") if "." not in p.name
    ]
    return max(steps, default=0)


def kill_training_past(repo: Path, min_checkpoint: int) -> int:
    """Run `dvc repro train`; SIGKILL the trainer once it has saved checkpoint >= `min_checkpoint` and logged a row
    after it (a row the resumed run must replace). Returns the step of the checkpoint it will resume from."""
    dvc = subprocess.Popen(["dvc", "repro", "train"], cwd=repo, env=clean_env(), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)  # fmt: skip
    curves = repo / "reports/train/curves.tsv"
    deadline = time.monotonic() + 120
    while dvc.poll() is None and time.monotonic() < deadline:
        checkpoint = newest_checkpoint_step(repo)
        if checkpoint >= min_checkpoint and curves.is_file():
            if any(int(row["step"]) > checkpoint for row in table(curves)):
                trainers = [p for p in psutil.Process(dvc.pid).children(recursive=True) if "train" in p.cmdline()]
                for trainer in trainers:
                    trainer.send_signal(signal.SIGKILL)
                dvc.wait(timeout=60)
                return newest_checkpoint_step(repo)
        time.sleep(0.01)
    dvc.kill()
    pytest.fail(f"the training was not caught past checkpoint {min_checkpoint}:\n{dvc.communicate()[0]}")


def test_curves_hold_every_step_once_after_two_kills_and_dvc_resumes(repo):
    first = kill_training_past(repo, min_checkpoint=25)
    second = kill_training_past(repo, min_checkpoint=first + 50)
    assert first < second < MAX_STEPS

    out = run(["dvc", "repro", "train"], repo).stdout
    assert "Running stage 'train'" in out
    curves, evaluations = table(repo / "reports/train/curves.tsv"), table(repo / "reports/train/eval.tsv")
    every_log = list(range(LOGGING_STEPS, MAX_STEPS + 1, LOGGING_STEPS))
    every_eval = list(range(EVAL_STEPS, MAX_STEPS + 1, EVAL_STEPS))
    assert [int(row["step"]) for row in curves] == every_log
    assert all(value != "" for row in curves for value in row.values())
    assert [int(row["step"]) for row in evaluations] == every_eval
    assert all(row["eval_loss"] for row in evaluations)

    panels = ["loss", "learning_rate", "grad_norm", "tokens_per_second"]
    shown = json.loads(run(["dvc", "plots", "show", "--json", *panels], repo).stdout)
    assert not shown.get("errors") and list(shown["data"]) == panels
    drawn = {}
    for panel in panels:
        for point in shown["data"][panel][0]["content"]["data"]["values"]:
            source = "eval.tsv::eval_loss" if "eval_loss" in point else f"curves.tsv::{panel}"
            assert point.get("dvc_inferred_y_value", point.get(panel)), f"{panel} draws an empty value: {point}"
            drawn.setdefault((panel, source), []).append(int(point["step"]))
    assert drawn == {
        ("loss", "curves.tsv::loss"): every_log,
        ("loss", "eval.tsv::eval_loss"): every_eval,
        ("learning_rate", "curves.tsv::learning_rate"): every_log,
        ("grad_norm", "curves.tsv::grad_norm"): every_log,
        ("tokens_per_second", "curves.tsv::tokens_per_second"): every_log,
    }

    with (repo / "ailab/models/gpt2.py").open("a") as f:  # a change to model code: only train (of those run) is stale
        f.write("\n# changed\n")
    status = json.loads(run(["dvc", "status", "--json", "train_tokenizer", "prepare", "train"], repo).stdout)
    assert set(status) == {"train"}, status
