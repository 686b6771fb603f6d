"""What fixed episode files need from a split: image names and labels, with or without the pixels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


class LabelledSplit(Protocol):
    """What episode files need from a split: an :class:`~fewshot_nsl.data.ImageSet`, or names and labels only."""

    labels: np.ndarray
    class_names: list[str]
    image_names: list[str]
    dataset: str
    split: str


@dataclass(frozen=True)
class SplitLabels:
    """A split's image names and labels without its pixels (enough to make episodes; see :class:`LabelledSplit`).

    Attributes:
        labels: (N,) int64 class index of each image.
        class_names, image_names, dataset, split: as in :class:`~fewshot_nsl.data.ImageSet`.
    """

    labels: np.ndarray
    class_names: list[str]
    image_names: list[str]
    dataset: str
    split: str

    @classmethod
    def read(cls, dataset: str, split: str, data_root: str | None = None) -> SplitLabels:
        """Names and labels of a split via :func:`fewshot_nsl.data.split_index` (no pixels decoded when the
        reader can avoid it, e.g. the Mini-ImageNet test split from ``test.csv`` alone)."""
        from ..data import split_index

        index = split_index(dataset, split, data_root)
        return cls(labels=np.asarray(index.labels, dtype=np.int64), class_names=list(index.class_names),
                   image_names=list(index.names), dataset=dataset, split=split)
