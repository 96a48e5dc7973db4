"""Bits that depend only on params, seed, code, data and thread count: pin the CPU math libraries' threads, and
describe the runtime that shapes a run's arithmetic (recorded with every training run).

ATen's CPU reductions split their work by the size of the OpenMP team that runs them, so their results depend on
it: on 1 and 2 threads, LayerNorm's weight and bias gradients differ in the last bits, while the matrix products
(MKL sgemm) of the same model agree. With dynamic threading the runtime picks that team size anew at each parallel
region: GNU libgomp, under `OMP_DYNAMIC=true`, runs `cpus - 15-minute load average` threads, so a run on a busy
machine sums in another order and drifts from an identical run on a quiet one (reproduced with the tiny model and
two CPU-burning processes). MKL's own `MKL_DYNAMIC` is on by default and only `torch.set_num_threads` turns it off.
`configure_cpu_threads` fixes the team size and turns both off before training starts.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys

import numpy as np
import torch

THREAD_ENVIRONMENT = (
    "OMP_NUM_THREADS", "OMP_DYNAMIC", "OMP_PROC_BIND", "OMP_SCHEDULE", "MKL_NUM_THREADS", "MKL_DYNAMIC", "MKL_CBWR",
    "KMP_AFFINITY",
)  # fmt: skip
"""The environment variables through which the OpenMP and MKL runtimes can change a CPU run's arithmetic."""


def _openmp_function(name: str) -> ctypes._CFuncPtr | None:
    """A function of the OpenMP runtime torch loaded (libgomp, libomp or libiomp5), if its symbols are visible."""
    try:
        return getattr(ctypes.CDLL(None), name)
    except (AttributeError, OSError):
        return None


def configure_cpu_threads(num_threads: int | None = None) -> int:
    """Run CPU math on exactly `num_threads` threads (default: torch's current count) with dynamic threading off.

    Sets the count in ATen, OpenMP and MKL (`torch.set_num_threads`, which also calls `mkl_set_dynamic(false)`),
    turns OpenMP's dynamic adjustment off (`omp_set_dynamic(0)`), and sets `OMP_DYNAMIC`/`MKL_DYNAMIC` to false for
    runtimes not started yet and for child processes. Returns the thread count.
    """
    threads = num_threads if num_threads is not None else torch.get_num_threads()
    if threads < 1:
        raise ValueError(f"num_threads must be at least 1, got {threads}")
    os.environ["OMP_DYNAMIC"] = "FALSE"
    os.environ["MKL_DYNAMIC"] = "FALSE"
    set_dynamic = _openmp_function("omp_set_dynamic")
    if set_dynamic is not None:
        set_dynamic(0)
    torch.set_num_threads(threads)
    return threads


def runtime_info() -> dict[str, str]:
    """What, besides params, seed, code and data, decides a run's bits: thread settings and library versions."""
    get_dynamic = _openmp_function("omp_get_dynamic")
    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "platform": f"{sys.platform}-{platform.machine()}",
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "intra_op_threads": str(torch.get_num_threads()),
        "inter_op_threads": str(torch.get_num_interop_threads()),
        "openmp_dynamic": "unknown" if get_dynamic is None else str(bool(get_dynamic())).lower(),
        "mkl": str(torch.backends.mkl.is_available()).lower(),
        "mkldnn": str(torch.backends.mkldnn.is_available()).lower(),
    }
    if torch.cuda.is_available():
        info["cuda"] = str(torch.version.cuda)
        info["cudnn"] = str(torch.backends.cudnn.version())
    info.update({f"env.{name}": os.environ.get(name, "unset") for name in THREAD_ENVIRONMENT})
    return info
