"""torch.distributed set-up for ``torchrun`` (gloo on CPU, NCCL on GPUs) and the episode-index arithmetic."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    """This process's place in the job (rank 0 of 1 when not distributed)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def init_distributed(device: torch.device) -> DistInfo:
    """Join the process group that ``torchrun`` describes in the environment; a no-op when run alone."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
    return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def episode_index(step: int, rank: int, local: int, meta_batch: int, world_size: int) -> int:
    """Index of the ``local``-th episode of ``rank`` at ``step``: step x global batch + rank x meta_batch + local.

    With one episode per rank this is ``step x world_size + rank``; one process with a meta-batch of
    ``world_size`` episodes sees exactly the same episodes.
    """
    return (step * world_size + rank) * meta_batch + local


def all_gather_floats(values: list, info: DistInfo) -> list:
    """Concatenate per-rank lists of floats in rank order (identity when not distributed)."""
    if not info.enabled:
        return list(values)
    gathered: list = [None] * info.world_size
    dist.all_gather_object(gathered, list(values))
    return [v for part in gathered for v in part]


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()
