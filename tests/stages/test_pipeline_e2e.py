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


def make_pipeline_repo(repo: Path, params: dict) -> Path:
    """A fresh git + DVC repo in `repo` holding the pipeline (code, dvc.yaml, `params` as params.yaml), committed."""
    if shutil.which("dvc") is None or shutil.which("ailab") is None:
        pytest.fail("dvc and the ailab console script must be installed: pip install -e '.[dev]'")
    for name in ("ailab", "stages", "pipeline"):
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "dvc.yaml", repo / "dvc.yaml")
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (repo / ".gitignore").write_text("/mlflow.db\n/mlartifacts/\n/outputs/\n__pycache__/\n")
    run(["git", "init", "-q"], repo)
    run(["git", "config", "user.email", "test@example.com"], repo)
    run(["git", "config", "user.name", "test"], repo)
    run(["dvc", "init", "-q"], repo)
    run(["dvc", "config", "core.analytics", "false"], repo)
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", "pipeline"], repo)
    return repo


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory) -> Path:
    """The pipeline on tiny params in a fresh git + DVC repo, reproduced once."""
    repo = make_pipeline_repo(tmp_path_factory.mktemp("pipeline"), tiny_params())
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


def mlflow_store(repo: Path) -> tuple:
    """A client of the repo's MLflow store and the id of its `ailab` experiment."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{repo / 'mlflow.db'}")
    return client, client.get_experiment_by_name("ailab").experiment_id


def pipeline_runs(repo: Path, name: str | None = None) -> list:
    """The pipeline runs (parents) in the store, newest first; with `name`, only those of that name."""
    client, experiment_id = mlflow_store(repo)
    query = f"tags.`ailab.pipeline` = '{name}'" if name else "tags.`ailab.pipeline` LIKE '%'"
    return client.search_runs([experiment_id], query, order_by=["attributes.start_time DESC"])


def stage_children(repo: Path, parent) -> dict:
    """The child runs of a pipeline run, by stage."""
    client, experiment_id = mlflow_store(repo)
    children = client.search_runs([experiment_id], f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'")
    return {child.data.tags["dvc.stage"]: child for child in children}


def model_outputs(run) -> list[str]:
    return [output.model_id for output in run.outputs.model_outputs]


def final_metrics(run) -> dict[str, float]:
    """The latest `val_loss`, `perplexity` and `bits_per_byte` of a run (the curves aside)."""
    return {k: v for k, v in run.data.metrics.items() if k in FINAL}


STAGES = ("train_tokenizer", "prepare", "dump_corpus", "train", "evaluate", "generate")
FINAL = ("val_loss", "perplexity", "bits_per_byte")


def test_mlflow_holds_one_named_pipeline_run_with_its_stages_as_children(pipeline):
    client, experiment_id = mlflow_store(pipeline)
    [parent] = pipeline_runs(pipeline)
    assert parent.info.run_name.startswith("gpt2-2x32-") and len(parent.info.run_name) == len("gpt2-2x32-") + 8
    children = stage_children(pipeline, parent)
    assert set(children) == set(STAGES)
    assert len(client.search_runs([experiment_id])) == len(STAGES) + 1
    params = parent.data.params
    assert (params["model.d_model"], params["train.max_steps"], params["data.source"]) == ("32", "24", "builtin")
    assert int(params["model.num_parameters"]) > 0
    metrics = json.loads((pipeline / "reports/eval/metrics.json").read_text())
    assert final_metrics(parent) == pytest.approx({k: metrics[k] for k in FINAL})

    train = children["train"]
    assert [m.step for m in client.get_metric_history(train.info.run_id, "train/loss")] == [4, 8, 12, 16, 20, 24]
    assert [m.step for m in client.get_metric_history(train.info.run_id, "eval/loss")] == [12, 24]
    for name in ("train/learning_rate", "train/grad_norm", "train/tokens_per_second"):
        assert client.get_metric_history(train.info.run_id, name)
    assert [m.step for m in client.get_metric_history(parent.info.run_id, "train/loss")] == [4, 8, 12, 16, 20, 24]
    assert train.info.run_name == f"{parent.info.run_name}/train"
    for run_ in (parent, *children.values()):  # corpus and tokenizer statistics are params, not metric panels
        assert all(k.startswith(("train/", "eval/", "system/")) or k in FINAL for k in run_.data.metrics), run_.data
    assert children["dump_corpus"].data.params["stats.num_documents"] == str(
        json.loads((pipeline / "reports/corpus/stats.json").read_text())["num_documents"]
    )
    tags = train.data.tags
    assert tags["git.commit"] == run(["git", "rev-parse", "HEAD"], pipeline).stdout.strip()
    assert tags["mlflow.source.git.commit"] == tags["git.commit"] == parent.data.tags["git.commit"]
    assert tags["git.dirty"] in ("true", "false") and tags["experiment"] == "ailab" and tags["device"] == "cpu"
    assert [a.path for a in client.list_artifacts(children["generate"].info.run_id)] == ["samples"]
    assert {a.path for a in client.list_artifacts(train.info.run_id)} >= {"curves"}


def test_the_pipeline_run_shows_its_corpus_as_dataset_inputs_with_the_dvc_hash(pipeline):
    [parent] = pipeline_runs(pipeline)
    lock = yaml.safe_load((pipeline / "dvc.lock").read_text())
    corpus_hash = next(o["md5"] for o in lock["stages"]["prepare"]["outs"] if o["path"] == "artifacts/corpus")
    train = stage_children(pipeline, parent)["train"]
    for run_ in (parent, train):
        inputs = {i.dataset.name: i for i in run_.inputs.dataset_inputs}
        assert set(inputs) == {"builtin-stories/train", "builtin-stories/validation"}
        for split in ("train", "validation"):
            dataset = inputs[f"builtin-stories/{split}"].dataset
            assert dataset.digest == corpus_hash
            sidecar = json.loads((pipeline / f"artifacts/corpus/{split}.json").read_text())
            assert json.loads(dataset.profile)["num_tokens"] == sidecar["num_tokens"]
            assert json.loads(dataset.source)["uri"] == f"artifacts/corpus/{split}.bin"


def test_the_pipeline_run_logs_a_pyfunc_model_that_generates_text(pipeline):
    import mlflow

    client, _ = mlflow_store(pipeline)
    [parent] = pipeline_runs(pipeline)
    [model_id] = model_outputs(parent)
    assert client.get_logged_model(model_id).source_run_id == parent.info.run_id
    assert model_outputs(stage_children(pipeline, parent)["train"]) == [model_id]
    mlflow.set_tracking_uri(f"sqlite:///{pipeline / 'mlflow.db'}")
    model = mlflow.pyfunc.load_model(f"runs:/{parent.info.run_id}/model")
    [text] = model.predict(["Once upon a time"], params={"max_new_tokens": 8, "seed": 0})
    assert isinstance(text, str) and text


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

    # a new pipeline run (new params hash) holding only `generate`, with the reused model's results
    cooler, first = pipeline_runs(pipeline)
    assert set(stage_children(pipeline, cooler)) == {"generate"}
    assert cooler.data.params["generate.temperature"] == "0.5"
    assert cooler.data.metrics == final_metrics(first) and set(FINAL) <= set(cooler.data.metrics)
    assert model_outputs(cooler) == model_outputs(first)
    digests = [{i.dataset.digest for i in r.inputs.dataset_inputs} for r in (cooler, first)]
    assert digests[0] == digests[1] and len(digests[0]) == 1


def test_a_model_param_experiment_retrains_and_is_a_comparable_mlflow_run(pipeline):
    out = run(["dvc", "exp", "run", "-n", "wider", "-S", "model.d_model=48"], pipeline).stdout
    for stage in ("train", "evaluate", "generate"):
        assert f"Running stage '{stage}'" in out
    for stage in ("train_tokenizer", "prepare", "dump_corpus"):
        assert f"Running stage '{stage}'" not in out

    [wider] = pipeline_runs(pipeline, "wider")
    assert wider.info.run_name == "wider" and wider.data.tags["dvc.exp_name"] == "wider"
    assert set(stage_children(pipeline, wider)) == {"train", "evaluate", "generate"}
    assert wider.data.params["model.d_model"] == "48" and set(FINAL) <= set(wider.data.metrics)
    assert len(model_outputs(wider)) == 1 and model_outputs(wider) != model_outputs(pipeline_runs(pipeline)[-1])
    assert {r.data.params["model.d_model"] for r in pipeline_runs(pipeline)} == {"32", "48"}


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
