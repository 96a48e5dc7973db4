"""Speed at the hardware's limit, side by side with transformers on the same weights and settings (issue 12).

One section per hot loop, picked with `--sections`, each printing a Markdown table:

- `decode`: greedy decode tokens/s at each `--batch-sizes` for each `--models`, from four runners on the weights of
  one seeded random ailab model (exported with `export_hf`, loaded into transformers): ailab uncompiled (dynamic
  cache), ailab compiled (`generate(compile=True)`: static cache, one compiled one-token step, CUDA graphs on CUDA),
  transformers (dynamic cache) and transformers static cache + compile (`cache_implementation="static"` with a
  `CompileConfig`, on every device). EOS is ignored (ailab `eos_token_id=[]`, transformers `min_new_tokens`).
  Decode tokens/s = batch · (N - 1) / (t(N new tokens) - t(1 new token)): prefill and fixed costs cancel; each t is
  the best of `--repeats`, runners taking turns so that load on the machine hits them alike. Compilation happens in a
  warm-up of both lengths, untimed. With `--sync-debug` (CUDA) the compiled ailab run is repeated under
  `torch.cuda.set_sync_debug_mode("warn")` and the host syncs of a 1-token and an N-token generation are counted:
  equal counts mean no per-token sync; the train section likewise counts the `Trainer`'s syncs over 4 and 8 steps.

- `train`: training tokens/s and MFU of one optimizer step (forward, backward, AdamW; fused AdamW on CUDA) for each
  `--train-models` at `--train-batch` x `--train-ctx`, eager and compiled, ailab against transformers on the same
  weights, in `--dtype` autocast; timed steps alternate between the two (bench_models.py's method), medians reported.
  MFU uses the card's dense bf16 peak from ailab's table (none on the CPU).

    python benchmarks/bench_speed.py                                   # every model, batch 1 and 32
    python benchmarks/bench_speed.py --models default --new-tokens 32  # the CPU check: a few minutes on 2 cores
    python benchmarks/bench_speed.py --device cuda --sync-debug        # bf16, CUDA graphs, host syncs counted
    python benchmarks/bench_speed.py --sections train --train-models default --train-ctx 128   # CPU training check
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import transformers
from transformers import AutoModelForCausalLM
from transformers.generation.configuration_utils import CompileConfig

from ailab.models import LlamaConfig, build_model
from ailab.models.hf import export_hf
from pipeline.params import load_params

ROOT = Path(__file__).resolve().parents[1]


def default_pipeline_model() -> tuple[str, dict[str, Any]]:
    """params.yaml's model with the default 8192-token BPE vocabulary."""
    model = load_params(ROOT / "params.yaml").model
    return model.arch, model.config_fields(vocab_size=8192, bos_token_id=None, eos_token_id=None)


MODELS: dict[str, Callable[[], tuple[str, dict[str, Any]]]] = {
    "default": default_pipeline_model,
    "gpt2-12x768": lambda: ("gpt2", dict(vocab_size=8192, n_ctx=1024, n_layers=12, d_model=768, n_heads=12)),
    "llama-110m": lambda: ("llama", dict(LlamaConfig.presets["tinystories-110m"])),  # llama2.c's 768/12/12
}
AILAB = "ailab"
AILAB_COMPILED = "ailab compiled"
HF = "transformers"
HF_COMPILED = "transformers static + compile"


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], torch.Tensor], device: torch.device) -> tuple[float, torch.Tensor]:
    sync(device)
    start = time.perf_counter()
    out = fn()
    sync(device)
    return time.perf_counter() - start, out


def decode_runners(ours, theirs, ids: torch.Tensor) -> dict[str, Callable[[int], torch.Tensor]]:
    """Each runner generates n greedy tokens after the same prompt batch `ids` (B, T), EOS ignored."""
    mask = torch.ones_like(ids)
    device = ids.device
    hf_compile = CompileConfig(fullgraph=True, mode="reduce-overhead" if device.type == "cuda" else "default")
    hf_compile._compile_all_devices = True  # transformers compiles only on accelerators unless told

    def ailab(**kwargs):
        return lambda n: ours.generate(ids, max_new_tokens=n, do_sample=False, eos_token_id=[], **kwargs)

    def hf(**kwargs):
        def run(n):
            with torch.no_grad():
                return theirs.generate(
                    ids,
                    attention_mask=mask,
                    max_new_tokens=n,
                    min_new_tokens=n,
                    do_sample=False,
                    pad_token_id=0,
                    **kwargs,
                )

        return run

    return {
        AILAB: ailab(),
        AILAB_COMPILED: ailab(compile=True),
        HF: hf(),
        HF_COMPILED: hf(cache_implementation="static", compile_config=hf_compile),
    }


def decode_rates(
    runners: dict[str, Callable[[int], torch.Tensor]], batch: int, new_tokens: int, repeats: int, device: torch.device
) -> dict[str, tuple[float, torch.Tensor]]:
    """Decode tokens/s of each runner from its best times of `repeats` (a shared machine only ever slows a run
    down), and its output for `new_tokens`."""
    outputs = {}
    for name, run in runners.items():  # warm-up: compiles each length a compiled runner will see
        outputs[name] = run(new_tokens)
        run(1)
    t_one: dict[str, list[float]] = {name: [] for name in runners}
    t_all: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(repeats):
        for name, run in runners.items():
            t_one[name].append(timed(lambda: run(1), device)[0])
            elapsed, outputs[name] = timed(lambda: run(new_tokens), device)
            t_all[name].append(elapsed)
    return {
        name: (batch * (new_tokens - 1) / max(min(t_all[name]) - min(t_one[name]), 1e-9), outputs[name])
        for name in runners
    }


def count_host_syncs(run: Callable[[], torch.Tensor]) -> int:
    """Synchronizing CUDA calls made by `run()`, as `torch.cuda.set_sync_debug_mode("warn")` reports them."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            run()
        finally:
            torch.cuda.set_sync_debug_mode("default")
    return sum("synchroniz" in str(w.message) for w in caught)


def decode_section(args: argparse.Namespace, device: torch.device, dtype: torch.dtype) -> None:
    """The decode table: every model x batch size x runner."""
    print(
        f"\n## decode: greedy tokens/s, {args.new_tokens} new tokens after a {args.prompt_len}-token prompt, "
        f"best of {args.repeats}\n"
    )
    columns = [
        AILAB,
        AILAB_COMPILED,
        HF,
        HF_COMPILED,
        f"{AILAB_COMPILED} / {HF_COMPILED}",
        "same tokens as transformers",
    ]
    print("| model | batch | " + " | ".join(columns) + " |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for name in args.models:
        arch, fields = MODELS[name]()
        torch.manual_seed(0)
        ours = build_model(arch, **dict(fields, bos_token_id=None, eos_token_id=None)).eval()
        with tempfile.TemporaryDirectory() as tmp:
            theirs = AutoModelForCausalLM.from_pretrained(export_hf(ours, tmp)).eval()
        ours.to(device=device, dtype=dtype)
        theirs.to(device=device, dtype=dtype)
        for batch in args.batch_sizes:
            torch._dynamo.reset()  # each model and batch size compiles afresh, within the recompile limit
            gen = torch.Generator().manual_seed(batch)
            ids = torch.randint(0, ours.config.vocab_size, (batch, args.prompt_len), generator=gen).to(device)
            runners = decode_runners(ours, theirs, ids)
            results = decode_rates(runners, batch, args.new_tokens, args.repeats, device)
            reference = results[HF][1]
            same = [runner for runner, (_, out) in results.items() if torch.equal(out, reference)]
            rates = " | ".join(f"{results[runner][0]:,.0f}" for runner in runners)
            ratio = results[AILAB_COMPILED][0] / results[HF_COMPILED][0]
            print(f"| {name} | {batch} | {rates} | {ratio:.2f}x | {len(same)}/{len(results)} |", flush=True)
            if args.sync_debug and device.type == "cuda":
                compiled = runners[AILAB_COMPILED]
                one, many = count_host_syncs(lambda: compiled(1)), count_host_syncs(lambda: compiled(args.new_tokens))
                print(f"|  | host syncs: 1 token {one}, {args.new_tokens} tokens {many} |  |  |  |  |  |  |")


def trainer_host_syncs(arch: str, fields: dict[str, Any], args: argparse.Namespace, device: torch.device) -> str:
    """Host syncs of `Trainer.train` for N and 2N steps logged once at the end: equal counts = none per step."""
    from ailab.trainers import Trainer, TrainingConfig

    data = torch.randint(0, fields["vocab_size"], (64, args.train_ctx))
    windows = [{"input_ids": row, "labels": row} for row in data]
    counts = []
    with tempfile.TemporaryDirectory() as tmp:
        for steps in (4, 8):
            model = build_model(arch, **fields)
            config = TrainingConfig(
                output_dir=tmp, max_steps=steps, warmup_steps=1, train_batch_size=args.train_batch,
                logging_steps=steps, device=str(device), mixed_precision="bf16" if device.type == "cuda" else "no",
            )  # fmt: skip
            trainer = Trainer(model, None, config, windows, callbacks=[])
            counts.append(count_host_syncs(trainer.train))
    return f"Trainer host syncs: 4 steps {counts[0]}, 8 steps {counts[1]}"


def train_section(args: argparse.Namespace, device: torch.device, dtype: torch.dtype) -> None:
    """The training table: every model, eager and compiled, ailab against transformers."""
    import statistics

    from bench_models import make_step

    from ailab.models.hf import to_hf
    from ailab.trainers.throughput import peak_bf16_flops

    tokens = args.train_batch * args.train_ctx
    peak = peak_bf16_flops(device)
    print(f"\n## train: one optimizer step, batch {args.train_batch} x ctx {args.train_ctx}, {dtype} autocast\n")
    columns = ["model", "compiled", "ailab tokens/s", "transformers tokens/s", "ailab / transformers", "ailab MFU"]
    print("| " + " | ".join([*columns, "transformers MFU"]) + " |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name in args.train_models:
        arch, fields = MODELS[name]()
        fields = dict(fields, n_ctx=args.train_ctx, dropout=0.0, bos_token_id=None, eos_token_id=None)
        for compiled in (False, True):
            torch._dynamo.reset()
            torch.manual_seed(0)
            ours = build_model(arch, **fields).to(device).train()
            theirs = to_hf(ours).to(device).train()
            theirs.config.use_cache = False
            options = argparse.Namespace(
                compile=compiled, bf16=dtype == torch.bfloat16, fused_adamw=device.type == "cuda"
            )
            steps = {"ailab": make_step(ours, options, device), "transformers": make_step(theirs, options, device)}
            x = torch.randint(0, ours.config.vocab_size, (args.train_batch, args.train_ctx), device=device)
            for step in steps.values():  # warm-up (and compilation), untimed
                for _ in range(3):
                    step(x)
            seconds: dict[str, list[float]] = {runner: [] for runner in steps}
            for r in range(args.repeats * 3):
                for runner in list(steps) if r % 2 == 0 else list(steps)[::-1]:
                    sync(device)
                    start = time.perf_counter()
                    steps[runner](x)
                    sync(device)
                    seconds[runner].append(time.perf_counter() - start)
            rates = {runner: tokens / statistics.median(times) for runner, times in seconds.items()}
            flops = ours.flops_per_token(args.train_ctx)
            mfu = {r: f"{100 * rate * flops / peak:.1f}%" if peak else "-" for r, rate in rates.items()}
            print(
                f"| {name} | {compiled} | {rates['ailab']:,.0f} | {rates['transformers']:,.0f} | "
                f"{rates['ailab'] / rates['transformers']:.2f}x | {mfu['ailab']} | {mfu['transformers']} |",
                flush=True,
            )
        if args.sync_debug and device.type == "cuda":
            print(f"|  | {trainer_host_syncs(arch, fields, args, device)} |  |  |  |  |  |", flush=True)


SECTIONS: dict[str, Callable[[argparse.Namespace, torch.device, torch.dtype], None]] = {
    "decode": decode_section,
    "train": train_section,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sections", nargs="+", default=list(SECTIONS), choices=list(SECTIONS))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default=None, choices=["float32", "bfloat16"], help="default: bf16 on CUDA")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's choice)")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--prompt-len", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sync-debug", action="store_true", help="CUDA: count host syncs of the compiled decode")
    parser.add_argument("--train-models", nargs="+", default=["gpt2-12x768"], choices=list(MODELS))
    parser.add_argument("--train-batch", type=int, default=16)
    parser.add_argument("--train-ctx", type=int, default=1024)
    args = parser.parse_args()
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    dtype = getattr(torch, args.dtype) if args.dtype else (torch.bfloat16 if device.type == "cuda" else torch.float32)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(
        f"torch {torch.__version__}, transformers {transformers.__version__}, device {device} ({name}), {dtype}, "
        f"{torch.get_num_threads()} threads"
    )
    for section in args.sections:
        SECTIONS[section](args, device, dtype)


if __name__ == "__main__":
    main()
