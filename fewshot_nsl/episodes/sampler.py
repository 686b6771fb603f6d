"""N-way K-shot Q-query episodes, each drawn from its own generator seeded by (seed, index)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence

import numpy as np

from ..core.errors import DataError


@dataclass(frozen=True)
class Episode:
    """One few-shot task, as indices into an :class:`~fewshot_nsl.data.ImageSet`.

    Attributes:
        index: position of the episode in its stream.
        classes: (way,) dataset class indices; episode label ``j`` means ``classes[j]``.
        support: (way * shot,) image indices, class-major: label of ``support[i]`` is ``i // shot``.
        query: (way * query,) image indices, class-major: label of ``query[i]`` is ``i // query``.
    """

    index: int
    classes: np.ndarray
    support: np.ndarray
    query: np.ndarray
    way: int
    shot: int
    n_query: int

    @property
    def support_labels(self) -> np.ndarray:
        """(way * shot,) episode labels in ``[0, way)``."""
        return np.repeat(np.arange(self.way), self.shot)

    @property
    def query_labels(self) -> np.ndarray:
        """(way * query,) episode labels in ``[0, way)``."""
        return np.repeat(np.arange(self.way), self.n_query)


def episode_rng(seed: int, index: int, stream: int = 0) -> np.random.Generator:
    """The generator of episode ``index``: a function of (seed, index, stream) only, never of global state.

    ``stream`` separates independent uses of the same episode (0 = which images, 1 = augmentation, ...).
    """
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(index), int(stream)]))


class EpisodeSampler:
    """Draws episode ``i`` of a stream deterministically from (seed, i).

    Support and query are disjoint by construction (one permutation of a class's images is cut in two);
    the chosen classes are in random order and so are the images within each class.

    Args:
        labels: (N,) class index of each image.
        way, shot, query: classes per episode, support and query images per class.
        seed: the stream's seed.
        class_names: used only to name a class that is too small in the error message.
    """

    def __init__(
        self,
        labels: np.ndarray,
        way: int,
        shot: int,
        query: int,
        seed: int = 0,
        class_names: Sequence[str] | None = None,
        where: str = "dataset",
    ) -> None:
        for name, value, low in (("way", way, 1), ("shot", shot, 1), ("query", query, 0)):
            if not isinstance(value, (int, np.integer)) or value < low:
                raise DataError(f"{name} must be an integer >= {low}, got {value!r}")
        labels = np.asarray(labels, dtype=np.int64)
        num_classes = int(labels.max()) + 1 if len(labels) else 0
        counts = np.bincount(labels, minlength=num_classes)
        present = np.flatnonzero(counts)
        if way > len(present):
            raise DataError(f"way {way} is larger than the {len(present)} classes of {where}")
        small = np.flatnonzero((counts > 0) & (counts < shot + query))
        if len(small):
            c = int(small[0])
            cname = class_names[c] if class_names is not None else str(c)
            raise DataError(
                f"class {cname!r} of {where} has {counts[c]} images, fewer than shot + query = {shot + query}"
            )
        order = np.argsort(labels, kind="stable")
        self._by_class: List[np.ndarray] = np.split(order, np.cumsum(counts)[:-1])
        self._classes = present
        self.way, self.shot, self.query, self.seed = int(way), int(shot), int(query), int(seed)

    def episode(self, index: int) -> Episode:
        """Episode ``index`` of this stream; the same for every call, process and machine."""
        rng = episode_rng(self.seed, index)
        classes = rng.choice(self._classes, size=self.way, replace=False)
        support, query = [], []
        per_class = self.shot + self.query
        for c in classes:
            pool = self._by_class[c]
            pick = pool[rng.choice(len(pool), size=per_class, replace=False)]
            support.append(pick[: self.shot])
            query.append(pick[self.shot:])
        return Episode(
            index=int(index),
            classes=classes.astype(np.int64),
            support=np.concatenate(support).astype(np.int64),
            query=np.concatenate(query).astype(np.int64),
            way=self.way,
            shot=self.shot,
            n_query=self.query,
        )

    def __getitem__(self, index: int) -> Episode:
        return self.episode(index)
