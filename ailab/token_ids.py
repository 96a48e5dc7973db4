"""Token ids checked against a vocabulary before an embedding lookup turns a bad one into a raw `IndexError`.

Shared by the models' `forward`, `generate`'s prompt check and the evaluator. One fused min/max reduction and a
read of its two numbers (a host sync on GPU) per call, ~1.5 µs on CPU; skipped while `torch.compile` traces, so
compiled graphs stay sync-free.
"""

from __future__ import annotations

import torch
from torch import Tensor


def check_forward_token_ids(input_ids: Tensor, vocab_size: int) -> None:
    """The models' own check, for ids on the CPU only: reading an accelerator's tensor would make every forward wait
    for the device, so there the callers check the ids where they are still on the host (the trainer's and the
    evaluator's batches) or once per call (`generate`'s prompt)."""
    if input_ids.is_cpu:
        check_token_ids(input_ids, vocab_size)


def check_token_ids(
    input_ids: Tensor,
    vocab_size: int,
    name: str = "input_ids",
    fix: str = "encode the text with the tokenizer the model was trained with",
) -> None:
    """Raise ValueError naming the first id outside [0, vocab_size) found at either extreme of `input_ids`.

    `name` says where the ids came from and `fix` what to do, for the message.
    """
    if torch.compiler.is_compiling() or input_ids.numel() == 0:
        return
    low, high = torch.aminmax(input_ids)
    low, high = low.item(), high.item()
    if low < 0 or high >= vocab_size:
        bad = low if low < 0 else high
        raise ValueError(
            f"token id {bad} in {name} is outside the model's vocabulary (vocab_size={vocab_size}, ids 0.."
            f"{vocab_size - 1}); {fix}"
        )
