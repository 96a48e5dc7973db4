"""How the tests launch tests/trainers/tiny_training.py in a fresh interpreter (plain or under torchrun)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "tests" / "trainers" / "tiny_training.py"


def run_tiny_training(*args: str, nproc: int | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the tiny training script; with `nproc`, as `python -m torch.distributed.run --nproc_per_node=nproc`."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO_ROOT)}
    launcher = [sys.executable]
    if nproc is not None:
        launcher += ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"]
    command = [*launcher, str(SCRIPT), *map(str, args)]
    return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout)
