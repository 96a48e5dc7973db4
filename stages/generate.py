"""Stage `generate`: text samples from the final model for the prompts in params."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from ailab.device import resolve_device
from ailab.generation import generate_text
from ailab.io import atomic_directory
from ailab.models import from_pretrained
from ailab.tokenizers import load_tokenizer
from pipeline.lineage import adopt_reused_model
from pipeline.params import GenerateParams, load_params
from pipeline.paths import PipelinePaths
from pipeline.tracking import log_artifacts, stage_run
from stages.options import DeviceOption, ParamsOption, reports_errors


def sample_prompts(model: Any, tokenizer: Any, params: GenerateParams) -> list[dict[str, Any]]:
    """`num_samples` continuations of every prompt, each recorded with the sampling params that made it."""
    records = []
    for prompt in params.prompts:
        for i in range(params.num_samples):
            settings = {
                "max_new_tokens": params.max_new_tokens,
                "temperature": params.temperature,
                "top_k": params.top_k,
                "top_p": params.top_p,
                "seed": params.seed + i,
            }
            text = generate_text(model, tokenizer, prompt, compile=params.compile, **settings)
            records.append({"prompt": prompt, "sample": i, **settings, "text": text})
    return records


def samples_markdown(records: list[dict[str, Any]]) -> str:
    """A page for reading the samples: one section per prompt, the prompt in bold, the continuation after it."""
    lines = ["# Samples", ""]
    for prompt in dict.fromkeys(r["prompt"] for r in records):
        lines += [f"## {prompt}", ""]
        for r in (r for r in records if r["prompt"] == prompt):
            lines += [
                f"*sample {r['sample']} — temperature {r['temperature']}, top_k {r['top_k']}, top_p {r['top_p']}, "
                f"seed {r['seed']}*",
                "",
                f"**{r['prompt']}**{r['text']}",
                "",
            ]
    return "\n".join(lines)


@reports_errors
def main(params: ParamsOption = Path("params.yaml"), device: DeviceOption = "auto") -> None:
    """Sample continuations of `generate.prompts` from artifacts/model (temperature and top-p/top-k from params).

    Writes reports/samples/samples.jsonl (prompt, sampling params, text) and samples.md, and logs them to its
    MLflow run (a child of the pipeline run).
    """
    config = load_params(params)
    paths = PipelinePaths()
    model = from_pretrained(paths.model_dir).to(resolve_device(device)).eval()
    tokenizer = load_tokenizer(paths.model_dir)
    records = sample_prompts(model, tokenizer, config.generate)
    with atomic_directory(paths.samples_dir) as tmp:
        (tmp / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        (tmp / "samples.md").write_text(samples_markdown(records), encoding="utf-8")
    with stage_run("generate", config, paths.root, sections=("generate",)):
        adopt_reused_model(paths, config)
        log_artifacts(paths.samples_dir, "samples")
    typer.echo(f"{len(records)} samples -> {paths.samples_dir}")
    typer.echo(f"\n{records[0]['prompt']}{records[0]['text']}")


if __name__ == "__main__":
    typer.run(main)
