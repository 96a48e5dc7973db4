"""Same params, seed, data and thread count give the same bits, whatever the machine's load and the dynamic-threading
settings of OpenMP and MKL; and a run can say which runtime produced it."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from ailab.trainers.reproducibility import THREAD_ENVIRONMENT, configure_cpu_threads, runtime_info

REPO_ROOT = Path(__file__).resolve().parents[2]

TRAIN = """
import json, sys
from ailab.trainers import Trainer
from ailab.trainers.reproducibility import runtime_info
from tests.trainers.tiny_training import TokenWindows, tiny_config, tiny_model

output_dir = sys.argv[1]
args = tiny_config(output_dir, max_steps=30, train_batch_size=64, logging_steps=10)
trainer = Trainer(tiny_model(), None, args, TokenWindows(512), callbacks=[])
trainer.train()
trainer.save_model(output_dir + "/final")
print(json.dumps(runtime_info()))
"""


def train(output_dir: Path, env: dict[str, str], background_load: int = 0) -> dict[str, str]:
    """Train the tiny model in a fresh interpreter, with `background_load` CPU-burning processes running meanwhile."""
    env = {**{k: v for k, v in os.environ.items() if k not in THREAD_ENVIRONMENT}, "PYTHONPATH": str(REPO_ROOT), **env}
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(background_load)]
    try:
        proc = subprocess.run(
            [sys.executable, "-c", TRAIN, str(output_dir)], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_two_runs_under_different_load_and_dynamic_threading_give_the_same_bits(tmp_path):
    runs = ("quiet", "busy")
    quiet = train(tmp_path / "quiet", {"OMP_NUM_THREADS": "2"})
    busy = train(
        tmp_path / "busy", {"OMP_NUM_THREADS": "2", "OMP_DYNAMIC": "true", "MKL_DYNAMIC": "true"}, background_load=2
    )
    digests = [hashlib.sha256((tmp_path / run / "final/model.safetensors").read_bytes()).hexdigest() for run in runs]
    assert digests[0] == digests[1], "the run under load wrote other model.safetensors bytes than the quiet run"
    assert quiet["intra_op_threads"] == busy["intra_op_threads"] == "2"
    assert quiet["openmp_dynamic"] == busy["openmp_dynamic"] == "false"  # the trainer turned OMP_DYNAMIC=true off


def test_runtime_info_names_threads_versions_and_thread_environment(monkeypatch):
    monkeypatch.setenv("MKL_CBWR", "AUTO")
    info = runtime_info()
    assert info["torch"] == torch.__version__ and info["python"] == ".".join(map(str, sys.version_info[:3]))
    assert info["intra_op_threads"] == str(torch.get_num_threads())
    assert info["env.MKL_CBWR"] == "AUTO"
    assert set(THREAD_ENVIRONMENT) <= {key.removeprefix("env.") for key in info}
    assert all(isinstance(value, str) and value for value in info.values())


def test_configure_cpu_threads_pins_the_count_and_refuses_zero(monkeypatch):
    monkeypatch.setenv("OMP_DYNAMIC", "true")
    assert configure_cpu_threads(1) == 1 and torch.get_num_threads() == 1
    assert os.environ["OMP_DYNAMIC"] == "FALSE" and runtime_info()["openmp_dynamic"] in ("false", "unknown")
    try:
        configure_cpu_threads(0)
    except ValueError as err:
        assert "num_threads must be at least 1, got 0" in str(err)
    else:
        raise AssertionError("configure_cpu_threads(0) was accepted")
