"""Device choice (``auto`` picks CUDA when present) and CPU thread settings."""

from __future__ import annotations

import os

import torch

from ..errors import ConfigError


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


def set_threads(threads: int | None, world_size: int = 1) -> None:
    """Use ``threads`` intra-op threads (default: the cores divided among the processes of this machine)."""
    if threads is None:
        cores = os.cpu_count() or 1
        threads = max(1, cores // max(1, world_size))
    torch.set_num_threads(int(threads))
