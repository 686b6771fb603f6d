"""Device choice (``auto`` picks CUDA when present) and CPU thread settings."""

from __future__ import annotations

import os

import torch

from ..core.errors import ConfigError


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto`` -> CUDA when available else CPU; ``cuda`` without a GPU is a ConfigError."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError("--device cuda was asked for but no CUDA device is available")
        if name == "cuda":
            name = f"cuda:{local_rank}"
    return torch.device(name)


def usable_cores() -> int:
    """Cores this process may run on: its CPU affinity (``taskset``, cgroups/SLURM pinning), else all cores."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def default_threads(world_size: int = 1) -> int:
    """``$OMP_NUM_THREADS`` when set, else the usable cores divided among the ``world_size`` local processes."""
    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, usable_cores() // max(1, world_size))


def set_threads(threads: int | None, world_size: int = 1) -> None:
    """Use ``threads`` intra-op threads (default: :func:`default_threads`)."""
    torch.set_num_threads(int(threads) if threads is not None else default_threads(world_size))
