"""Map-style datasets that turn episode indices into tensors, for a ``DataLoader`` with workers.

Item ``i`` is a pure function of (seed, i): which images (the sampler) and how they are augmented
(``episode_rng(seed, i, stream=1)``). So a stream is identical across runs, worker counts and resumes.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ..data.base import ImageSet
from .batch import EpisodeBatch
from .sampler import EpisodeSampler, episode_rng

#: stream ids of :func:`episode_rng`
AUGMENT_STREAM = 1
SUPERVISED_STREAM = 2

Transform = Callable[[np.ndarray, "np.random.Generator | None"], torch.Tensor]


class EpisodeDataset(Dataset):
    """Item ``i`` = :class:`EpisodeBatch` of episode ``i`` (CPU tensors), augmented when ``augment``.

    Args:
        images: the split's :class:`ImageSet` (a memmap is re-mapped, not copied, in workers).
        sampler: draws episode ``i``.
        transform: (N, H, W, C) uint8 + generator -> (N, C, H, W) float tensor.
        augment: draw an augmentation generator per episode (else pass ``None``).
    """

    def __init__(self, images: ImageSet, sampler: EpisodeSampler, transform: Transform, augment: bool) -> None:
        self.images = images
        self.sampler = sampler
        self.transform = transform
        self.augment = augment

    def __len__(self) -> int:
        return 2**62

    def __getitem__(self, index: int) -> EpisodeBatch:
        ep = self.sampler.episode(int(index))
        rng = episode_rng(self.sampler.seed, int(index), AUGMENT_STREAM) if self.augment else None
        order = np.concatenate([ep.support, ep.query])
        pixels = self.transform(np.asarray(self.images.images[order]), rng)
        n_support = len(ep.support)
        return EpisodeBatch(
            support=pixels[:n_support],
            support_labels=torch.from_numpy(ep.support_labels),
            query=pixels[n_support:],
            query_labels=torch.from_numpy(ep.query_labels),
            way=ep.way,
            shot=ep.shot,
            index=int(index),
        )


class SupervisedDataset(Dataset):
    """Item ``i`` = (images (B, C, H, W), labels (B,)): a mini-batch of base-class images drawn by (seed, i)."""

    def __init__(self, images: ImageSet, batch_size: int, seed: int, transform: Transform, augment: bool) -> None:
        self.images = images
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.transform = transform
        self.augment = augment

    def __len__(self) -> int:
        return 2**62

    def __getitem__(self, index: int) -> tuple:
        rng = episode_rng(self.seed, int(index), SUPERVISED_STREAM)
        pick = rng.choice(len(self.images.labels), size=self.batch_size, replace=False)
        aug = episode_rng(self.seed, int(index), AUGMENT_STREAM) if self.augment else None
        pixels = self.transform(np.asarray(self.images.images[pick]), aug)
        return pixels, torch.from_numpy(self.images.labels[pick].copy())


def _identity(item):
    return item


def make_loader(dataset: Dataset, indices: Sequence[int], num_workers: int, pin_memory: bool = False) -> DataLoader:
    """A loader yielding ``dataset[i]`` for ``i`` in ``indices``, in order, prepared by ``num_workers`` workers."""
    return DataLoader(
        dataset,
        batch_size=None,
        sampler=list(indices),
        num_workers=num_workers,
        collate_fn=_identity,
        pin_memory=pin_memory,
        persistent_workers=False,
        prefetch_factor=4 if num_workers > 0 else None,
    )
