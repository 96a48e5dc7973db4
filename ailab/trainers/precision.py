"""Mixed precision: resolve "auto", build the autocast context and the fp16 gradient scaler.

"auto" means bf16 autocast on a CUDA card with bf16 support and full fp32 everywhere else. On CPU, bf16 autocast is
supported by PyTorch but is slower than fp32 on CPUs without AMX/AVX512-BF16 and changes the numerics of every test,
so "auto" keeps CPU runs in fp32; ask for "bf16" explicitly to use it.
"""

from __future__ import annotations

import contextlib

import torch


def resolve_mixed_precision(mode: str, device: torch.device) -> str:
    """Turn "auto" into "bf16" or "no" for `device`; check that an explicit choice is possible there."""
    if mode == "auto":
        if device.type == "cuda" and torch.cuda.is_bf16_supported():
            return "bf16"
        return "no"
    if mode == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ValueError(
            f"mixed_precision='bf16' but {torch.cuda.get_device_name(device)} has no bf16 support; "
            "use mixed_precision='fp16' (with a gradient scaler) or 'no'"
        )
    return mode


def autocast_context(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """`torch.autocast` for "bf16"/"fp16", a no-op context for "no"."""
    if precision == "no":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def build_grad_scaler(precision: str, device: torch.device) -> torch.amp.GradScaler:
    """A GradScaler that is enabled only for fp16 (bf16 has fp32's range and needs none)."""
    return torch.amp.GradScaler(device.type, enabled=precision == "fp16")
