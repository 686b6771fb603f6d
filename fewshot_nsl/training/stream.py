"""The training stream: the transform of a split and the iterator of training items a run consumes.

Item ``i`` of the stream is a pure function of (``train.seed``, ``i``), so a resumed run continues exactly where
the uninterrupted one would be.
"""

from __future__ import annotations

from typing import Any, Iterator

import torch

from ..data.base import ImageSet
from ..data.transforms import AUGMENTATIONS, EpisodeTransform
from ..episodes.batches import EpisodeDataset, SupervisedDataset, make_loader
from ..episodes.sampler import EpisodeSampler
from ..runtime.config import Config
from ..runtime.distributed import DistInfo, episode_index


def make_transform(images: ImageSet, augment: bool, augmentation: str = "fewshot") -> EpisodeTransform:
    """uint8 (N, H, W, C) -> normalised float (N, C, H, W) with ``images``' mean/std, augmenting when asked with
    the recipe ``augmentation`` (``data.augmentation``; it changes nothing without ``augment``)."""
    c, h, w = images.image_shape
    return EpisodeTransform(mean=images.mean, std=images.std, image_size=h, augment=augment,
                            **AUGMENTATIONS[augmentation])


def training_stream(config: Config, images: ImageSet, supervised: bool, first_step: int, total_steps: int,
                    meta_batch: int, dist: DistInfo, device: torch.device) -> Iterator[Any]:
    """Items of steps ``first_step .. total_steps - 1`` of this rank, ``meta_batch`` per step.

    Episodic methods get episodes of ``task`` shape; ``supervised`` ones (mini-batches of ``train.batch_size``
    base-class images). Item j of step s is global index ``episode_index(s, rank, j, ...)``.
    """
    c, augment = config, config.data.augment
    transform = make_transform(images, augment, config.data.augmentation)
    if supervised:
        dataset: Any = SupervisedDataset(images, c.train.batch_size, c.train.seed, transform, augment)
    else:
        sampler = EpisodeSampler(
            images.labels, c.task.way, c.task.shot, c.task.query, seed=c.train.seed,
            class_names=images.class_names, where=f"{c.data.dataset}/{c.data.train_split}",
        )
        dataset = EpisodeDataset(images, sampler, transform, augment)
    indices = [
        episode_index(s, dist.rank, j, meta_batch, dist.world_size)
        for s in range(first_step, total_steps)
        for j in range(meta_batch)
    ]
    loader = make_loader(dataset, indices, c.data.num_workers, pin_memory=device.type == "cuda")
    return iter(loader)
