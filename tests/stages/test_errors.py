"""The error contract, through the real `ailab` console script: a bad input or a damaged file prints one line
`error: <what>; <how to fix>` (exit 2), a fault during a run the same (exit 1), never a traceback, and the outputs of
earlier runs stay byte for byte as they were."""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from pipeline.params import load_params
from pipeline.paths import PipelinePaths
from stages.train import build_trainer, training_lock
from tests.stages.test_train import PARAMS, make_pipeline
from tests.test_io import dead_pid, file_size_limit
from tests.trainers.test_checkpoint import Payload, truncate

REPO_ROOT = Path(__file__).resolve().parents[2]
AILAB = shutil.which("ailab")
pytestmark = pytest.mark.skipif(AILAB is None, reason="the ailab console script is not installed")

TRAIN = {**PARAMS["train"], "max_steps": 6, "save_steps": 2, "logging_steps": 2}


def ailab(root: Path, *args: str, preexec_fn=None, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    """Run the installed console script in `root` on this checkout's code."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1", **env}
    full_env.pop("MLFLOW_TRACKING_URI", None)
    full_env.pop("AILAB_DEBUG", None)
    return subprocess.run(
        [AILAB, *args], cwd=root, env=full_env, capture_output=True, text=True, timeout=timeout, preexec_fn=preexec_fn
    )


def hashes(*paths: Path) -> dict[str, str]:
    """sha256 of every file under `paths`, by path: equal before and after means byte-identical."""
    found = {}
    for top in paths:
        for file in sorted([top] if top.is_file() else top.rglob("*")):
            if file.is_file():
                found[str(file)] = hashlib.sha256(file.read_bytes()).hexdigest()
    assert found, f"nothing to hash under {paths}"
    return found


def assert_clean_error(result: subprocess.CompletedProcess, status: int, *names: str) -> str:
    """Exit `status`, one `error:` message (to the end of stderr) naming each of `names`, no traceback."""
    output = result.stdout + result.stderr
    assert result.returncode == status, output
    assert "Traceback" not in output, output
    assert result.stderr.count("error: ") == 1, output
    message = result.stderr[result.stderr.index("error: ") :]
    for name in names:
        assert name in message, message
    return message


def make_interrupted(root: Path, model: dict | None = None) -> Path:
    """A pipeline whose training stopped after step 4 of 6 (checkpoints 2 and 4), with a final model from before."""
    make_pipeline(root)
    (root / "params.yaml").write_text(
        yaml.safe_dump({**PARAMS, "model": {**PARAMS["model"], **(model or {})}, "train": TRAIN})
    )
    paths = PipelinePaths(root)
    trainer = build_trainer(load_params(root / "params.yaml"), paths, "cpu", callbacks=[])
    trainer.train()
    trainer.save_model(paths.model_dir)
    shutil.rmtree(paths.checkpoints_dir / "checkpoint-6")
    return root


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory) -> Path:
    return make_interrupted(tmp_path_factory.mktemp("interrupted"))


@pytest.fixture
def pipeline(interrupted, tmp_path) -> Path:
    """A fresh copy of `interrupted` for one test."""
    root = tmp_path / "pipeline"
    shutil.copytree(interrupted, root)
    return root


def set_params(root: Path, **sections: dict) -> None:
    """Change some params of the pipeline in `root` (each section's keys are updated)."""
    params = yaml.safe_load((root / "params.yaml").read_text())
    for name, values in sections.items():
        params[name] = {**params.get(name, {}), **values}
    (root / "params.yaml").write_text(yaml.safe_dump(params))


def checkpoints(root: Path) -> Path:
    return root / "outputs" / "checkpoints"


# ---- bad inputs: exit 2 --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("stage", ["train-tokenizer", "prepare"])
def test_an_empty_corpus_is_an_error_and_keeps_the_tokenizer_and_corpus(pipeline, stage):
    (pipeline / "empty.txt").write_text("\n<|endoftext|>\n\n")
    set_params(pipeline, data={"source": "local", "path": "empty.txt"}, tokenizer={"kind": "bpe", "vocab_size": 300})
    before = hashes(pipeline / "artifacts")
    result = ailab(pipeline, stage)
    assert_clean_error(result, 2, "empty.txt", "no documents")
    assert hashes(pipeline / "artifacts") == before
    assert not list((pipeline / "artifacts").glob(".*"))  # no temporary left behind


def test_a_jsonl_corpus_without_the_text_field_names_the_field_and_file(pipeline):
    (pipeline / "stories.jsonl").write_text('{"body": "Once upon a time."}\n{"body": "The end."}\n')
    set_params(pipeline, data={"source": "local", "path": "stories.jsonl"})
    before = hashes(pipeline / "artifacts")
    assert_clean_error(ailab(pipeline, "prepare"), 2, "stories.jsonl", "'text'", "text_field")
    assert hashes(pipeline / "artifacts") == before


@pytest.mark.parametrize(
    ("file", "damage"),
    [
        ("model.safetensors", truncate),
        ("config.json", lambda f: f.write_text("garbage")),
        ("tokenizer.json", truncate),
        ("ailab_tokenizer.json", lambda f: f.write_text("{")),
    ],
)
def test_sample_names_the_damaged_file_of_a_model(pipeline, file, damage):
    damage(pipeline / "artifacts" / "model" / file)
    result = ailab(pipeline, "sample", "artifacts/model", "--device", "cpu", "--max-new-tokens", "3")
    assert_clean_error(result, 2, f"artifacts/model/{file}", "again")
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("option", "value"),
    [("--temperature", "-1"), ("--top-p", "1.5"), ("--top-k", "0"), ("--max-new-tokens", "-2")],
)
def test_sample_checks_its_options_before_printing_anything(pipeline, option, value):
    result = ailab(pipeline, "sample", "artifacts/model", "--device", "cpu", option, value)
    assert_clean_error(result, 2, option.removeprefix("--").replace("-", "_"))
    assert result.stdout == ""


def test_resume_after_a_change_of_the_parameter_count_refuses_before_mlflow(pipeline):
    set_params(pipeline, model={"n_layers": 2})
    before = hashes(checkpoints(pipeline))
    result = ailab(pipeline, "train", "--device", "cpu")
    assert_clean_error(result, 2, "checkpoint-4", "n_layers", "--restart")
    assert "\n  model.n_layers: checkpoint 1, now 2" in result.stderr
    assert hashes(checkpoints(pipeline)) == before
    assert not (pipeline / "mlflow.db").exists()  # refused before a run was opened


@pytest.mark.parametrize(("file", "damage"), [("model.safetensors", truncate), ("training_state.pt", truncate)])
def test_a_damaged_latest_checkpoint_is_skipped_for_the_newest_intact_one(pipeline, file, damage):
    damage(checkpoints(pipeline) / "checkpoint-4" / file)
    intact = hashes(checkpoints(pipeline) / "checkpoint-2")
    result = ailab(pipeline, "train", "--device", "cpu")
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "Traceback" not in output, output
    warning = next(line for line in result.stderr.splitlines() if line.startswith("warning: "))
    assert f"checkpoint-4/{file} is damaged" in warning and "resuming from" in warning
    assert "resuming from" in result.stdout and "checkpoint-2" in result.stdout
    assert hashes(checkpoints(pipeline) / "checkpoint-2") == intact
    assert "trained 6 steps" in result.stdout


def test_no_intact_checkpoint_says_so_and_how_to_start_over(pipeline):
    for step in (2, 4):
        truncate(checkpoints(pipeline) / f"checkpoint-{step}" / "model.safetensors")
    before = hashes(checkpoints(pipeline))
    result = ailab(pipeline, "train", "--device", "cpu")
    assert_clean_error(result, 2, "no intact checkpoint", "checkpoint-2", "checkpoint-4", "--restart")
    assert hashes(checkpoints(pipeline)) == before


def test_a_malicious_training_state_is_named_and_never_run(pipeline):
    marker = pipeline / "pwned"
    state = checkpoints(pipeline) / "checkpoint-4" / "training_state.pt"
    state.write_bytes(pickle.dumps({"optimizer": Payload(marker)}))
    result = ailab(pipeline, "train", "--device", "cpu")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"{state.relative_to(pipeline)} is not a valid ailab checkpoint file" in output
    assert "weights_only" not in output and not marker.exists()
    assert "checkpoint-2" in result.stdout


# ---- faults during a run: exit 1 -----------------------------------------------------------------------------------
def test_a_nan_loss_is_one_line_and_exit_1(pipeline):
    set_params(pipeline, train={"learning_rate": 1e30, "min_learning_rate": 0.0})
    result = ailab(pipeline, "train", "--device", "cpu", "--restart")
    assert_clean_error(result, 1, "loss is ", "at step", "learning_rate")


def test_checkpoints_path_being_a_file_is_named(pipeline):
    shutil.rmtree(checkpoints(pipeline))
    checkpoints(pipeline).write_text("not a directory")
    result = ailab(pipeline, "train", "--device", "cpu")
    assert_clean_error(result, 1, "outputs/checkpoints", "move it away")
    assert checkpoints(pipeline).read_text() == "not a directory"


def without_root_powers() -> None:
    """In the child: drop the capabilities that let root write into a read-only directory (no-op for a user)."""
    if os.geteuid() == 0:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        for capability in (1, 2, 3):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
            libc.prctl(24, capability, 0, 0, 0)  # PR_CAPBSET_DROP: exec then leaves them out


def test_a_read_only_checkpoints_directory_is_named_and_keeps_the_checkpoints(pipeline):
    before = hashes(checkpoints(pipeline))
    checkpoints(pipeline).chmod(0o555)
    try:
        result = ailab(pipeline, "train", "--device", "cpu", preexec_fn=without_root_powers)
    finally:
        checkpoints(pipeline).chmod(0o755)
    assert_clean_error(result, 1, "outputs/checkpoints", "Permission denied", "writable")
    assert hashes(checkpoints(pipeline)) == before


def test_a_full_disk_mid_save_is_named_and_keeps_the_previous_checkpoints(tmp_path):
    root = make_interrupted(tmp_path / "pipeline", model={"d_model": 128, "n_layers": 2, "n_heads": 4})
    state_size = (checkpoints(root) / "checkpoint-4" / "training_state.pt").stat().st_size
    weights_size = (checkpoints(root) / "checkpoint-4" / "model.safetensors").stat().st_size
    limit = (state_size + weights_size) // 2  # the weights still fit, the optimizer state does not
    assert weights_size < limit < state_size and limit > 2 * 2**20, (weights_size, state_size)

    before = hashes(*checkpoints(root).glob("checkpoint-*"))
    result = ailab(root, "train", "--device", "cpu", preexec_fn=file_size_limit(limit))
    assert_clean_error(result, 1, "outputs/checkpoints/checkpoint-6/training_state.pt", "File too large")
    assert hashes(*checkpoints(root).glob("checkpoint-*")) == before  # 2 and 4 as they were, nothing of 6
    assert not list(checkpoints(root).glob(".*"))  # no temporary left


# ---- kills and concurrency ----------------------------------------------------------------------------------------
def test_the_next_run_removes_the_temporaries_of_killed_writers_only(pipeline):
    dead = dead_pid()
    stale = [
        checkpoints(pipeline) / f".checkpoint-6.{dead}-0123abcd.tmp",
        pipeline / "artifacts" / f".corpus.{dead}-0123abcd.tmp",
        pipeline / "artifacts" / f".model.{dead}-0123abcd.tmp",
    ]
    live = checkpoints(pipeline) / f".checkpoint-6.{os.getpid()}-0123abcd.tmp"  # a writer still running
    for folder in [*stale, live]:
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"half")
    assert ailab(pipeline, "train", "--device", "cpu").returncode == 0
    assert ailab(pipeline, "prepare").returncode == 0
    assert [p.exists() for p in stale] == [False, False, False] and live.is_dir()


def test_a_second_train_on_the_same_outputs_refuses_naming_the_first(pipeline):
    set_params(pipeline, train={"max_steps": 100000, "save_steps": 100000})
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1"}
    first = subprocess.Popen(
        [AILAB, "train", "--device", "cpu", "--restart"], cwd=pipeline, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        pid_file = pipeline / "outputs" / "train.lock.pid"
        deadline = time.monotonic() + 60
        while not (pid_file.is_file() and pid_file.read_text().strip()) and time.monotonic() < deadline:
            assert first.poll() is None, "the first trainer stopped early"
            time.sleep(0.2)
        before = hashes(pipeline / "params.yaml", pipeline / "artifacts")
        second = ailab(pipeline, "train", "--device", "cpu", "--restart")
        assert_clean_error(second, 2, f"PID {first.pid}", "outputs")
        assert hashes(pipeline / "params.yaml", pipeline / "artifacts") == before
        assert first.poll() is None  # the first one was left alone
    finally:
        first.kill()
        first.wait()


def test_the_lock_dies_with_its_holder_even_by_sigkill(tmp_path):
    lock = tmp_path / "outputs" / "train.lock"
    code = (
        "import pathlib, time\n"
        "from stages.train import training_lock\n"
        f"with training_lock(pathlib.Path({str(lock)!r})):\n"
        "    time.sleep(600)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    try:
        pid_file = lock.with_name("train.lock.pid")
        deadline = time.monotonic() + 60
        while not (pid_file.is_file() and pid_file.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.1)
        with pytest.raises(ValueError, match=f"another `ailab train` \\(PID {holder.pid}\\)"), training_lock(lock):
            pass
    finally:
        holder.kill()
        holder.wait()
    with training_lock(lock):  # the stale PID file of a killed holder blocks nobody
        assert pid_file.read_text() == f"{os.getpid()}\n"
    assert not pid_file.exists()


@pytest.mark.parametrize(
    ("command", "env"),
    [
        ([AILAB or "ailab", "--debug", "sample"], {}),
        ([AILAB or "ailab", "sample"], {"AILAB_DEBUG": "1"}),
        ([sys.executable, "-m", "stages.sample", "--debug"], {}),
    ],
)
def test_debug_shows_the_traceback(interrupted, tmp_path, command, env):
    model = tmp_path / "model"
    shutil.copytree(interrupted / "artifacts" / "model", model)
    (model / "config.json").write_text("garbage")
    full_env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "COLUMNS": "1000", **env}  # rich: no wrapped lines
    result = subprocess.run([*command, str(model)], env=full_env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "Traceback" in result.stderr and "config.json is damaged" in result.stderr
    quiet = subprocess.run(
        [c for c in command if c != "--debug"] + [str(model)],
        env={k: v for k, v in full_env.items() if k != "AILAB_DEBUG"}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert_clean_error(quiet, 2, "config.json is damaged")
