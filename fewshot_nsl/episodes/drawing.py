"""Drawing a split's seeded episodes into an :class:`~.file_format.EpisodeFile` (and onto disk)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.errors import DataError
from .file_format import EpisodeFile, write_episode_file
from .labelled_split import LabelledSplit
from .sampler import EpisodeSampler


def build_episode_file(imageset: LabelledSplit, way: int, shot: int, query: int, episodes: int,
                       seed: int = 0) -> EpisodeFile:
    """The first ``episodes`` episodes of ``EpisodeSampler(seed=seed)`` on ``imageset``, in file form."""
    if episodes < 1:
        raise DataError(f"episodes must be >= 1, got {episodes}")
    where = f"{imageset.dataset}/{imageset.split}"
    sampler = EpisodeSampler(imageset.labels, way, shot, query, seed=seed,
                             class_names=imageset.class_names, where=where)
    drawn = [sampler.episode(i) for i in range(episodes)]
    used = np.unique(np.concatenate([np.concatenate([e.support, e.query]) for e in drawn]))
    names = sorted(imageset.image_names[i] for i in used)
    position = {n: k for k, n in enumerate(names)}
    image_pos = {int(i): position[imageset.image_names[i]] for i in used}
    items = [{"class_ids": [int(c) for c in e.classes],
              "support": [image_pos[int(i)] for i in e.support],
              "query": [image_pos[int(i)] for i in e.query]} for e in drawn]
    return EpisodeFile(dataset=imageset.dataset, split=imageset.split, way=int(way), shot=int(shot),
                       query=int(query), seed=int(seed), names=names, classes=list(imageset.class_names),
                       episode_list=items)


def make_episode_file(imageset: LabelledSplit, way: int, shot: int, query: int, episodes: int, seed: int,
                      path: str | Path) -> Path:
    """Draw ``episodes`` seeded episodes from ``imageset`` and write them to ``path``; returns ``path``."""
    return write_episode_file(build_episode_file(imageset, way, shot, query, episodes, seed), path)
