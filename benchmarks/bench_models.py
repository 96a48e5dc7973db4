"""Training-step speed of ailab's GPT-2 and LLaMA against transformers' models of the same config, in one process.

A step is forward + backward + AdamW on a (batch, ctx) batch of random tokens. Both models get the same weights
(the transformers model is made with `ailab.models.hf.to_hf`), the same optimizer settings and the same options.
Timed steps of the two models alternate (order swapped each round), so a machine shared with other jobs slows both
alike; medians are reported, and the ratio is the median over adjacent pairs of steps. Prints tokens/s and the
ratio; on CUDA also peak memory and MFU against the card's dense bf16 peak.

    python benchmarks/bench_models.py                                   # CPU: 4 layers, 256 wide, ctx 256, batch 8
    python benchmarks/bench_models.py --preset gpt2-small --ctx 1024 --batch 16 --bf16 --compile --fused-adamw  # GPU
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from ailab.models import GPT2Config, LlamaConfig, build_model
from ailab.models.hf import to_hf
from ailab.trainers.throughput import peak_bf16_flops

CONFIGS = {"gpt2": GPT2Config, "llama": LlamaConfig}


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def gpu_peak_flops(device: torch.device, override_tflops: float | None) -> float | None:
    """--peak-tflops, else the card's dense bf16 peak from the trainer's own table (None on the CPU)."""
    return override_tflops * 1e12 if override_tflops else peak_bf16_flops(device)


def model_fields(arch: str, args: argparse.Namespace) -> dict:
    if args.preset:
        fields = dict(CONFIGS[arch].presets[args.preset])
    elif arch == "gpt2":
        fields = dict(n_layers=args.layers, d_model=args.d_model, n_heads=args.heads)
    else:
        fields = dict(
            n_layers=args.layers, d_model=args.d_model, n_heads=args.heads, n_kv_heads=args.kv_heads, multiple_of=32
        )
    fields.update(
        vocab_size=args.vocab or fields.get("vocab_size", 8192),
        n_ctx=args.ctx,
        dropout=0.0,
        bos_token_id=None,
        eos_token_id=None,
    )
    return fields


def make_step(model: torch.nn.Module, args: argparse.Namespace, device: torch.device) -> Callable[[torch.Tensor], None]:
    """One optimizer step of `model` on a batch, with the options asked for."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True if args.fused_adamw else None)
    forward = torch.compile(model) if args.compile else model
    dtype = torch.bfloat16 if args.bf16 else None

    def step(x: torch.Tensor) -> None:
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            loss = forward(input_ids=x, labels=x).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_arch(arch: str, args: argparse.Namespace, device: torch.device) -> None:
    torch.manual_seed(0)
    model = build_model(arch, **model_fields(arch, args)).to(device).train()
    hf_model = to_hf(model).to(device).train()
    hf_model.config.use_cache = False
    x = torch.randint(0, model.config.vocab_size, (args.batch, args.ctx), device=device)
    steps = {"ailab": make_step(model, args, device), "transformers": make_step(hf_model, args, device)}
    peak_mem = {}
    for name, step in steps.items():  # warm up (and compile) each, recording its peak memory
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        for _ in range(args.warmup):
            step(x)
        sync(device)
        if device.type == "cuda":
            peak_mem[name] = torch.cuda.max_memory_allocated(device) / 2**30
    seconds = {name: [] for name in steps}
    for r in range(args.rounds):  # alternate single timed runs, swapping the order each round
        for name in list(steps) if r % 2 == 0 else list(steps)[::-1]:
            sync(device)
            t0 = time.perf_counter()
            for _ in range(args.steps):
                steps[name](x)
            sync(device)
            seconds[name].append((time.perf_counter() - t0) / args.steps)

    tokens = args.batch * args.ctx
    peak = gpu_peak_flops(device, args.peak_tflops)
    flops_per_token = model.flops_per_token(args.ctx)
    print(f"\n{arch}: {model.num_parameters() / 1e6:.2f}M params, {model.config}")
    print(f"{'model':<14}{'tokens/s':>12}{'best':>10}{'ms/step':>10}{'peak GiB':>10}{'MFU':>8}")
    for name in steps:
        tps = tokens / statistics.median(seconds[name])
        mem = f"{peak_mem[name]:.2f}" if name in peak_mem else "-"
        mfu = f"{100 * tps * flops_per_token / peak:.1f}%" if peak else "-"
        print(
            f"{name:<14}{tps:>12,.0f}{tokens / min(seconds[name]):>10,.0f}{1000 * tokens / tps:>10.1f}{mem:>10}{mfu:>8}"
        )
    pair_ratios = [hf / ours for ours, hf in zip(seconds["ailab"], seconds["transformers"])]
    print(
        f"ailab / transformers speed: {statistics.median(pair_ratios):.2f}x median of {len(pair_ratios)} adjacent "
        f"pairs (min {min(pair_ratios):.2f}, max {max(pair_ratios):.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", default="gpt2,llama", help="comma-separated: gpt2, llama")
    parser.add_argument(
        "--preset", default=None, help="a preset name both configs have (tiny, tinystories-15m, gpt2-small for gpt2)"
    )
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--d-model", type=int, default=256)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--kv-heads", type=int, default=None, help="LLaMA key/value heads (default: --heads)")
    parser.add_argument("--vocab", type=int, default=None, help="vocabulary size (default: the preset's, else 8192)")
    parser.add_argument("--ctx", type=int, default=256)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument(
        "--warmup", type=int, default=2, help="untimed steps per model first (compilation happens here)"
    )
    parser.add_argument("--steps", type=int, default=1, help="timed steps per model per round")
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds; medians are reported")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda, cuda:N")
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast with fp32 master weights")
    parser.add_argument("--compile", action="store_true", help="torch.compile both models")
    parser.add_argument("--fused-adamw", action="store_true", help="AdamW(fused=True)")
    parser.add_argument("--peak-tflops", type=float, default=None, help="device peak for MFU, if not in the table")
    args = parser.parse_args()
    device = pick_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    print(
        f"device {device} ({torch.cuda.get_device_name(device) if device.type == 'cuda' else 'CPU'}, "
        f"{torch.get_num_threads()} threads), torch {torch.__version__}, batch {args.batch} x ctx {args.ctx}, "
        f"bf16={args.bf16} compile={args.compile} fused_adamw={args.fused_adamw}"
    )
    for arch in args.arch.split(","):
        bench_arch(arch.strip(), args, device)


if __name__ == "__main__":
    main()
