"""One episode as tensors: what the episode loaders yield and what a method's ``loss`` receives."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class EpisodeBatch:
    """One episode as tensors on the compute device.

    Attributes:
        support: (way * shot, C, H, W) normalised images, class-major.
        support_labels: (way * shot,) int64 labels in [0, way).
        query: (way * query, C, H, W) normalised images, class-major.
        query_labels: (way * query,) int64 labels in [0, way).
        way, shot: the episode's shape.
        index: the episode's index in its stream (-1 when not from a stream).
    """

    support: torch.Tensor
    support_labels: torch.Tensor
    query: torch.Tensor
    query_labels: torch.Tensor
    way: int
    shot: int
    index: int = -1

    def to(self, device: torch.device, non_blocking: bool = False) -> "EpisodeBatch":
        return EpisodeBatch(
            self.support.to(device, non_blocking=non_blocking),
            self.support_labels.to(device, non_blocking=non_blocking),
            self.query.to(device, non_blocking=non_blocking),
            self.query_labels.to(device, non_blocking=non_blocking),
            self.way,
            self.shot,
            self.index,
        )
