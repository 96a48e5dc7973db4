"""Model FLOPs utilisation: achieved training FLOP/s over the card's dense bf16 tensor-core peak.

MFU = flops_per_token(seq_len) × tokens/s per GPU / peak, with `model.flops_per_token` counting forward + backward
(≈ 6·N + attention). Peaks are NVIDIA's dense (no 2:4 sparsity) bf16 figures; unknown cards get no MFU.
"""

from __future__ import annotations

import torch

# Matched in order against torch.cuda.get_device_name(): put the more specific names first.
PEAK_BF16_FLOPS: tuple[tuple[str, float], ...] = (
    ("H200", 989e12),
    ("H100 NVL", 835e12),
    ("H100 PCIe", 756e12),
    ("H100", 989e12),  # SXM, e.g. "NVIDIA H100 80GB HBM3"
    ("GH200", 989e12),
    ("B200", 2250e12),
    ("A100", 312e12),
    ("A800", 312e12),
    ("L40S", 362e12),
    ("L4", 121e12),
    ("A10G", 70e12),
    ("A10", 125e12),
    ("RTX 4090", 165e12),
    ("RTX 3090", 71e12),
)


def peak_bf16_flops(device: torch.device) -> float | None:
    """Dense bf16 peak FLOP/s of the CUDA card at `device`, or None when unknown or not CUDA."""
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    for key, flops in PEAK_BF16_FLOPS:
        if key in name:
            return flops
    return None


def model_flops_utilization(flops_per_token: float, tokens_per_second_per_device: float, peak_flops: float) -> float:
    """Fraction of the peak that the training step achieves."""
    return flops_per_token * tokens_per_second_per_device / peak_flops
