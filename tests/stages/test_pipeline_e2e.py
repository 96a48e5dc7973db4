"""End to end: the real pipeline copied into a temporary git repo, run with real `dvc repro` on tiny params,
tracked in a real sqlite MLflow store there; then every output, DVC's caching and the MLflow run are checked."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

TINY = {
    "data": {"num_stories": 1500, "validation_fraction": 0.05},
    "tokenizer": {"kind": "bpe", "vocab_size": 512},
    "corpus": {"num_proc": 2, "dump_windows": 3, "dump_window_length": 64},
    "model": {"n_ctx": 64, "n_layers": 2, "d_model": 32, "n_heads": 2},
    "train": {
        "max_steps": 24, "batch_size": 8, "warmup_steps": 4, "eval_steps": 12, "eval_batches": 2,
        "save_steps": 12, "logging_steps": 4,
    },
    "eval": {"batch_size": 16, "max_batches": 4},
    "generate": {"prompts": ["Once upon a time", "The cat"], "num_samples": 2, "max_new_tokens": 16},
}  # fmt: skip


def tiny_params() -> dict:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for section, values in TINY.items():
        params[section].update(values)
    return params


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DVC_"))}
    env["AILAB_DEVICE"] = "cpu"
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory) -> Path:
    """A fresh git + DVC repo holding the pipeline (code, dvc.yaml, tiny params.yaml), reproduced once."""
    if shutil.which("dvc") is None or shutil.which("ailab") is None:
        pytest.fail("dvc and the ailab console script must be installed: pip install -e '.[dev]'")
    repo = tmp_path_factory.mktemp("pipeline")
    for name in ("ailab", "stages", "pipeline"):
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "dvc.yaml", repo / "dvc.yaml")
    (repo / "params.yaml").write_text(yaml.safe_dump(tiny_params(), sort_keys=False))
    (repo / ".gitignore").write_text("/mlflow.db\n/mlartifacts/\n/outputs/\n__pycache__/\n")
    run(["git", "init", "-q"], repo)
    run(["git", "config", "user.email", "test@example.com"], repo)
    run(["git", "config", "user.name", "test"], repo)
    run(["dvc", "init", "-q"], repo)
    run(["dvc", "config", "core.analytics", "false"], repo)
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", "pipeline"], repo)
    run(["dvc", "repro"], repo)
    return repo


def test_every_stage_writes_its_outputs(pipeline):
    assert (pipeline / "artifacts/tokenizer/ailab_tokenizer.json").is_file()
    for split in ("train", "validation"):
        sidecar = json.loads((pipeline / f"artifacts/corpus/{split}.json").read_text())
        assert sidecar["num_tokens"] > 0 and sidecar["vocab_size"] == 512
    assert (pipeline / "reports/corpus/dump.txt").stat().st_size > 0
    assert json.loads((pipeline / "reports/corpus/stats.json").read_text())["num_documents"] > 0
    for png in ("doc_length_hist.png", "token_rank_frequency.png"):
        assert (pipeline / "reports/corpus" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    model_dir = pipeline / "artifacts/model"
    assert {"config.json", "model.safetensors", "ailab_tokenizer.json"} <= {p.name for p in model_dir.iterdir()}
    curves = (pipeline / "reports/train/curves.tsv").read_text().splitlines()
    assert curves[0].split("\t")[:3] == ["step", "loss", "learning_rate"]
    assert [int(row.split("\t")[0]) for row in curves[1:]][-1] == 24
    metrics = json.loads((pipeline / "reports/eval/metrics.json").read_text())
    assert {"val_loss", "perplexity", "bits_per_byte"} <= set(metrics)
    assert 0 < metrics["bits_per_byte"] < 8 and metrics["perplexity"] < 512
    samples = [json.loads(line) for line in (pipeline / "reports/samples/samples.jsonl").read_text().splitlines()]
    assert len(samples) == 4 and {s["prompt"] for s in samples} == {"Once upon a time", "The cat"}
    assert all(s["temperature"] == 0.8 and s["top_p"] == 0.9 and isinstance(s["text"], str) for s in samples)
    assert "**Once upon a time**" in (pipeline / "reports/samples/samples.md").read_text()


def test_final_model_loads_with_the_python_api(pipeline):
    from ailab.models import from_pretrained
    from ailab.tokenizers import load_tokenizer

    model = from_pretrained(pipeline / "artifacts/model")
    tokenizer = load_tokenizer(pipeline / "artifacts/model")
    ids = tokenizer.encode("Once upon a time", return_tensors="pt")
    assert model(ids).logits.shape == (1, ids.shape[1], 512)


def test_dvc_metrics_and_plots_show(pipeline):
    shown = run(["dvc", "metrics", "show", "--json"], pipeline).stdout
    assert "bits_per_byte" in shown and "perplexity" in shown
    plots = run(["dvc", "plots", "show", "--json"], pipeline).stdout
    assert "curves.tsv" in plots and "doc_length_hist.png" in plots


def test_mlflow_run_carries_params_curves_metrics_samples_and_model(pipeline):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{pipeline / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("ailab")
    runs = client.search_runs([experiment.experiment_id], "tags.`dvc.stage` = 'train'")
    assert len(runs) == 1
    run_ = runs[0]
    assert run_.data.params["model.d_model"] == "32" and run_.data.params["train.max_steps"] == "24"
    assert run_.data.params["data.source"] == "builtin"
    assert {"val_loss", "perplexity", "bits_per_byte"} <= set(run_.data.metrics)
    loss = client.get_metric_history(run_.info.run_id, "loss")
    assert [m.step for m in loss] == [4, 8, 12, 16, 20, 24]
    for name in ("learning_rate", "grad_norm", "tokens_per_second"):
        assert client.get_metric_history(run_.info.run_id, name)
    tags = run_.data.tags
    assert tags["git.commit"] == run(["git", "rev-parse", "HEAD"], pipeline).stdout.strip()
    assert tags["mlflow.source.git.commit"] == tags["git.commit"]
    assert tags["git.dirty"] in ("true", "false") and tags["experiment"] == "ailab" and tags["device"] == "cpu"
    artifacts = {a.path for a in client.list_artifacts(run_.info.run_id)}
    assert {"model", "samples"} <= artifacts
    model_files = {Path(a.path).name for a in client.list_artifacts(run_.info.run_id, "model")}
    assert {"config.json", "model.safetensors"} <= model_files
    for stage in ("train_tokenizer", "prepare", "dump_corpus"):
        assert client.search_runs([experiment.experiment_id], f"tags.`dvc.stage` = '{stage}'")


def test_nothing_changed_runs_nothing(pipeline):
    out = run(["dvc", "repro"], pipeline).stdout
    assert "Running stage" not in out
    assert "up to date" in out.lower()


def test_a_generate_param_reruns_only_generate(pipeline):
    params = yaml.safe_load((pipeline / "params.yaml").read_text())
    params["generate"]["temperature"] = 0.5
    (pipeline / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    out = run(["dvc", "repro"], pipeline).stdout
    assert "Running stage 'generate'" in out
    for stage in ("train_tokenizer", "prepare", "dump_corpus", "train", "evaluate"):
        assert f"Running stage '{stage}'" not in out


def test_a_model_param_experiment_retrains_and_is_a_comparable_mlflow_run(pipeline):
    from mlflow.tracking import MlflowClient

    out = run(["dvc", "exp", "run", "-n", "wider", "-S", "model.d_model=48"], pipeline).stdout
    for stage in ("train", "evaluate", "generate"):
        assert f"Running stage '{stage}'" in out
    for stage in ("train_tokenizer", "prepare", "dump_corpus"):
        assert f"Running stage '{stage}'" not in out

    client = MlflowClient(tracking_uri=f"sqlite:///{pipeline / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("ailab")
    runs = client.search_runs([experiment.experiment_id], "tags.`dvc.exp_name` = 'wider'")
    assert len(runs) == 1
    assert runs[0].data.params["model.d_model"] == "48" and runs[0].data.tags["dvc.stage"] == "train"
    assert {"val_loss", "bits_per_byte"} <= set(runs[0].data.metrics)
    all_training = client.search_runs([experiment.experiment_id], "tags.`dvc.stage` = 'train'")
    assert {r.data.params["model.d_model"] for r in all_training} == {"32", "48"}


def test_bad_params_stop_a_stage_before_any_work(pipeline, tmp_path):
    bad = tmp_path / "bad.yaml"
    params = yaml.safe_load((pipeline / "params.yaml").read_text())
    params["model"]["n_heads"] = 5
    bad.write_text(yaml.safe_dump(params))
    proc = subprocess.run(
        [sys.executable, "-m", "stages.train", "--params", str(bad)], cwd=pipeline, capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert f"model.d_model ({params['model']['d_model']}) must be divisible by model.n_heads (5)" in proc.stderr
