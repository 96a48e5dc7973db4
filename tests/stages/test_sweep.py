"""A sweep through DVC's queue on the real pipeline (tiny params, temporary git + DVC repo): two queued experiments,
each its own named MLflow pipeline run in the one `ailab` experiment; `dvc exp show` and `dvc plots diff` compare them.

Queued experiments run in temporary copies of the repo (.dvc/tmp/exps); their runs still land in the repo's store.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.stages.test_pipeline_e2e import (
    FINAL,
    ROOT,
    STAGES,
    final_metrics,
    make_pipeline_repo,
    mlflow_store,
    model_outputs,
    pipeline_runs,
    run,
    stage_children,
)

SWEEP = {
    "data": {"num_stories": 300},
    "tokenizer": {"kind": "ascii"},
    "corpus": {"num_proc": 1, "dump_windows": 1, "dump_window_length": 32},
    "model": {"n_ctx": 32, "n_layers": 1, "d_model": 16, "n_heads": 2},
    "train": {
        "max_steps": 6, "batch_size": 4, "warmup_steps": 1, "eval_steps": 3, "eval_batches": 1, "save_steps": 6,
        "logging_steps": 2,
    },
    "eval": {"batch_size": 8, "max_batches": 2},
    "generate": {"prompts": ["Once upon a time"], "num_samples": 1, "max_new_tokens": 8},
}  # fmt: skip
RATES = ("0.001", "0.002")


@pytest.fixture(scope="module")
def swept(tmp_path_factory) -> Path:
    """The pipeline committed in a fresh repo, then a two-point learning-rate sweep queued and run."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for section, values in SWEEP.items():
        params[section].update(values)
    repo = make_pipeline_repo(tmp_path_factory.mktemp("sweep"), params)
    run(["dvc", "exp", "run", "--queue", "-S", f"train.learning_rate={','.join(RATES)}"], repo)
    run(["dvc", "exp", "run", "--run-all"], repo)
    return repo


def experiments(repo: Path) -> dict[str, dict]:
    """`dvc exp show --json` as {experiment name: {"params": ..., "metrics": ...}}."""
    found = {}
    shown = json.loads(run(["dvc", "exp", "show", "--json"], repo).stdout)
    for exp in (exp for row in shown for exp in row.get("experiments") or []):
        data = exp["revs"][0]["data"]
        found[exp["name"]] = {
            "params": data["params"]["params.yaml"]["data"],
            "metrics": data["metrics"]["reports/eval/metrics.json"]["data"],
        }
    return found


def test_each_queued_experiment_is_its_own_named_pipeline_run(swept):
    exps = experiments(swept)
    assert sorted(str(e["params"]["train"]["learning_rate"]) for e in exps.values()) == list(RATES)
    client, experiment_id = mlflow_store(swept)
    runs = pipeline_runs(swept)
    assert {r.info.run_name for r in runs} == set(exps)
    assert {r.info.experiment_id for r in runs} == {experiment_id}
    for parent in runs:
        exp = exps[parent.info.run_name]
        assert parent.data.params["train.learning_rate"] == str(exp["params"]["train"]["learning_rate"])
        assert set(stage_children(swept, parent)) == set(STAGES)  # each temporary copy runs the whole pipeline
        assert final_metrics(parent) == pytest.approx({k: exp["metrics"][k] for k in FINAL})
        assert len(model_outputs(parent)) == 1
    assert not list((swept / ".dvc" / "tmp").rglob("mlflow.db"))  # no store left behind in a temporary copy


def test_dvc_exp_show_lists_the_sweep_with_the_final_metrics(swept):
    shown = run(["dvc", "exp", "show", "--csv"], swept).stdout.splitlines()
    header = shown[0].split(",")
    assert {"val_loss", "perplexity", "bits_per_byte", "train.learning_rate"} <= set(header)
    rows = [dict(zip(header, line.split(","))) for line in shown[1:]]
    swept_rows = [r for r in rows if r["Experiment"] in experiments(swept)]
    assert len(swept_rows) == 2 and all(float(r["val_loss"]) > 0 for r in swept_rows)


def test_dvc_plots_diff_overlays_their_curves(swept):
    names = sorted(experiments(swept))
    shown = json.loads(run(["dvc", "plots", "diff", *names, "--json"], swept).stdout)
    plots = shown.get("data", shown)
    overlaid = [
        plot_id
        for plot_id, renders in plots.items()
        if any(r.get("type") == "vega" and set(names) <= set(r.get("revisions", [])) for r in renders)
    ]
    assert overlaid, plots.keys()
