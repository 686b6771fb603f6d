"""The dataset registry: each built-in reader registers its :class:`DatasetSpec` here with
``DATASETS.register(name)(DatasetSpec(...))``.

A reader module imports this file, never the package ``__init__`` (which imports the readers).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from ..core.registry import Registry
from .base import ImageSet
from .plan import SplitIndex, SplitSource


@dataclass(frozen=True)
class DatasetSpec:
    """How to read one dataset.

    Attributes:
        name: registry name (``mini-imagenet``, ``omniglot``, ``folder``, ``synthetic``).
        load: ``load(root, split, image_size, cache_dir) -> ImageSet``; ``root`` is None only for datasets that
            need no files (synthetic).
        default_image_size: side length the images are resized to by default (84, 28, ...).
        splits: the split names the reader knows.
        needs_root: False for datasets generated in code.
        source: ``source(root, split, image_size) -> SplitSource``: the split before decoding (used by
            ``data check``, which decodes image by image and collects every problem).
        index: ``index(root, split) -> SplitIndex``: names, labels and classes without decoding any image.
        find_splits: ``find_splits(root) -> names``: the splits whose files are present under ``root``.
        class_split: ``class_split(root, rule) -> {"train": classes, "val": ..., "test": ...}`` for a reader
            that can split its classes by a :class:`~.class_split.ClassSplit` (``data.class_split``); its
            ``load``, ``source`` and ``index`` then take the rule as the keyword ``class_split``.
        folder: the data folder's name under ``$FEWSHOT_NSL_DATA`` (default: ``name``); a dataset read from
            another's files names that one's folder.
    """

    name: str
    load: Callable[[Optional[Path], str, int, Optional[Path]], ImageSet]
    default_image_size: int
    splits: Tuple[str, ...] = ("train", "val", "test")
    needs_root: bool = True
    source: Optional[Callable[..., "SplitSource"]] = None
    index: Optional[Callable[[Optional[Path], str], "SplitIndex"]] = None
    find_splits: Optional[Callable[[Optional[Path]], Tuple[str, ...]]] = None
    class_split: Optional[Callable[..., Dict[str, List[str]]]] = None
    folder: Optional[str] = None


DATASETS: Registry[DatasetSpec] = Registry("dataset")

__all__ = ["DATASETS", "DatasetSpec"]
