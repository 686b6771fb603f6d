"""Dataset readers. Every reader loads **one split** and returns an :class:`ImageSet`.

Readers register themselves with ``DATASETS.register(name)`` (from :mod:`.registry`) as a :class:`DatasetSpec`;
use :func:`load_split` to read one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ..core.registry import import_builtins
from .base import ImageSet
from .plan import SplitIndex, SplitSource
from .registry import DATASETS, DatasetSpec
from .roots import resolve_root

import_builtins(__name__, __path__)  # every module of this package registers its built-ins

__all__ = ["DATASETS", "DatasetSpec", "ImageSet", "SplitIndex", "SplitSource", "load_split", "split_index"]


def load_split(
    dataset: str,
    split: str,
    data_root: Optional[str] = None,
    image_size: Optional[int] = None,
    cache_dir: Optional[str] = None,
) -> ImageSet:
    """Read one split of ``dataset``.

    Args:
        dataset: registry name.
        split: e.g. ``train``, ``val``, ``test``.
        data_root: the dataset's folder; when None, ``$FEWSHOT_NSL_DATA/<dataset>`` (see :mod:`.roots`).
        image_size: side length in pixels (default: the dataset's own).
        cache_dir: where the decoded uint8 cache lives (default: beside the data, or a user cache dir when
            the data folder is read-only).
    """
    spec = DATASETS.get(dataset)
    root = resolve_root(dataset, data_root) if spec.needs_root else (Path(data_root) if data_root else None)
    size = int(image_size or spec.default_image_size)
    return spec.load(root, split, size, Path(cache_dir) if cache_dir else None)


def split_index(dataset: str, split: str, data_root: Optional[str] = None) -> SplitIndex:
    """Names, labels and classes of one split without decoding its images when the reader can (e.g. the
    Mini-ImageNet test split from ``test.csv`` alone); otherwise the split is loaded.
    """
    spec = DATASETS.get(dataset)
    root = resolve_root(dataset, data_root) if spec.needs_root else (Path(data_root) if data_root else None)
    if spec.index is not None:
        return spec.index(root, split)
    images = load_split(dataset, split, data_root)
    return SplitIndex(list(images.image_names), images.labels, list(images.class_names))
