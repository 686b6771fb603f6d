"""Dataset readers. Every reader loads **one split** and returns an :class:`ImageSet`.

Readers register themselves with ``@DATASETS.register(name)`` as a :class:`DatasetSpec`; use
:func:`load_split` to read one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Tuple

from ..registry import Registry
from .base import ImageSet


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
    """

    name: str
    load: Callable[[Optional[Path], str, int, Optional[Path]], ImageSet]
    default_image_size: int
    splits: Tuple[str, ...] = ("train", "val", "test")
    needs_root: bool = True


DATASETS: Registry[DatasetSpec] = Registry("dataset")

__all__ = ["DATASETS", "DatasetSpec", "ImageSet", "load_split"]


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
    from . import readers  # noqa: F401  (registers the built-in readers)
    from .roots import resolve_root

    spec = DATASETS.get(dataset)
    root = resolve_root(dataset, data_root) if spec.needs_root else (Path(data_root) if data_root else None)
    size = int(image_size or spec.default_image_size)
    return spec.load(root, split, size, Path(cache_dir) if cache_dir else None)
