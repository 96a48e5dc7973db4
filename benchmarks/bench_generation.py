"""Decode speed of ailab's `generate` against transformers' `generate` on the same weights, side by side.

For each model (the pipeline's default GPT-2 and a GPT-2 12-layer/768) and batch size, the weights of one seeded
random ailab model are exported with `export_hf` and loaded into transformers, then every runner decodes greedily the
same number of tokens (EOS ignored: ailab `eos_token_id=[]`, transformers `min_new_tokens`). Decode tokens/s counts
only the decode steps: batch · (N - 1) / (time for N new tokens - time for 1 new token), the median of `--repeats`.

    python benchmarks/bench_generation.py                       # CPU: both models, batch 1 and 32
    python benchmarks/bench_generation.py --device cuda         # adds static cache + torch.compile(reduce-overhead)
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable

import torch
import transformers
from transformers import AutoModelForCausalLM

from ailab.models import build_model
from ailab.models.hf import export_hf

MODELS = {
    "default (gpt2 4x128, vocab 8192)": dict(vocab_size=8192, n_ctx=128, n_layers=4, d_model=128, n_heads=4),
    "gpt2 12x768 (124M)": dict(vocab_size=50257, n_ctx=1024, n_layers=12, d_model=768, n_heads=12),
}


def timed(fn: Callable[[], torch.Tensor], device: torch.device) -> tuple[float, torch.Tensor]:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    out = fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, out


def decode_tokens_per_second(
    table: dict[str, Callable[[int], torch.Tensor]], batch: int, new_tokens: int, repeats: int, device: torch.device
) -> dict[str, tuple[float, torch.Tensor]]:
    """Median decode throughput of each `run(n)` (n new tokens for `batch` rows) and its output for `new_tokens`.

    Runners take turns within each repeat, so a change in the machine's load hits them all alike.
    """
    outputs = {name: run(new_tokens) for name, run in table.items()}  # warm-up (and compilation, where any)
    rates: dict[str, list[float]] = {name: [] for name in table}
    for _ in range(repeats):
        for name, run in table.items():
            t_one, _ = timed(lambda: run(1), device)
            t_all, outputs[name] = timed(lambda: run(new_tokens), device)
            rates[name].append(batch * (new_tokens - 1) / max(t_all - t_one, 1e-9))
    return {name: (statistics.median(rates[name]), outputs[name]) for name in table}


def runners(
    ours, theirs, device: torch.device, prompt_len: int, batch: int
) -> dict[str, Callable[[int], torch.Tensor]]:
    """Each runner generates n greedy tokens after the same prompt batch."""
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(0, ours.config.vocab_size, (batch, prompt_len), generator=gen).to(device)
    mask = torch.ones_like(ids)

    def ailab(cache: str, compile_mode: str | bool = False):
        return lambda n: ours.generate(
            ids, max_new_tokens=n, do_sample=False, eos_token_id=[], cache=cache, compile_decode_step=compile_mode
        )

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

    table = {
        "transformers generate (dynamic cache)": hf(),
        "ailab dynamic cache": ailab("dynamic"),
        "ailab static cache": ailab("static"),
    }
    if device.type == "cuda":
        table["transformers generate (static cache, compiled)"] = hf(cache_implementation="static")
        table["ailab static cache + torch.compile(reduce-overhead)"] = ailab("static", "reduce-overhead")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--prompt-len", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's choice)")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    args = parser.parse_args()
    transformers.utils.logging.disable_progress_bar()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    print(
        f"torch {torch.__version__}, device {device}, dtype {dtype}, threads {torch.get_num_threads()}, "
        f"{args.new_tokens} new tokens after a {args.prompt_len}-token prompt, greedy, median of {args.repeats}"
    )
    print("| model | batch | runner | decode tokens/s | vs transformers | same tokens as transformers |")
    print("|---|---:|---|---:|---:|---|")
    for name in args.models:
        torch.manual_seed(0)
        ours = build_model("gpt2", eos_token_id=None, **MODELS[name]).eval()
        with tempfile.TemporaryDirectory() as tmp:
            theirs = AutoModelForCausalLM.from_pretrained(export_hf(ours, tmp)).eval()
        ours.to(device=device, dtype=dtype)
        theirs.to(device=device, dtype=dtype)
        for batch in args.batch_sizes:
            table = runners(ours, theirs, device, args.prompt_len, batch)
            results = decode_tokens_per_second(table, batch, args.new_tokens, args.repeats, device)
            baseline, reference = results["transformers generate (dynamic cache)"]
            for runner, (rate, out) in results.items():
                same = "yes" if torch.equal(out, reference) else "no (near-tie logits)"
                print(f"| {name} | {batch} | {runner} | {rate:,.0f} | {rate / baseline:.2f}x | {same} |", flush=True)


if __name__ == "__main__":
    main()
