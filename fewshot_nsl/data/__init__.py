"""Dataset readers. Every reader loads **one split** and returns an :class:`ImageSet`.

Readers register themselves with ``@DATASETS.register(name)`` as a :class:`DatasetSpec`; use
:func:`load_split` to read one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Tuple

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
    """

    name: str
    load: Callable[[Optional[Path], str, int, Optional[Path]], ImageSet]
    default_image_size: int
    splits: Tuple[str, ...] = ("train", "val", "test")
    needs_root: bool = True
    source: Optional[Callable[..., "SplitSource"]] = None
    index: Optional[Callable[[Optional[Path], str], "SplitIndex"]] = None
    find_splits: Optional[Callable[[Optional[Path]], Tuple[str, ...]]] = None


DATASETS: Registry[DatasetSpec] = Registry("dataset")

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
    from . import readers  # noqa: F401  (registers the built-in readers)
    from .roots import resolve_root

    spec = DATASETS.get(dataset)
    root = resolve_root(dataset, data_root) if spec.needs_root else (Path(data_root) if data_root else None)
    size = int(image_size or spec.default_image_size)
    return spec.load(root, split, size, Path(cache_dir) if cache_dir else None)


def split_index(dataset: str, split: str, data_root: Optional[str] = None) -> SplitIndex:
    """Names, labels and classes of one split without decoding its images when the reader can (e.g. the
    Mini-ImageNet test split from ``test.csv`` alone); otherwise the split is loaded.
    """
    from . import readers  # noqa: F401  (registers the built-in readers)
    from .roots import resolve_root

    spec = DATASETS.get(dataset)
    root = resolve_root(dataset, data_root) if spec.needs_root else (Path(data_root) if data_root else None)
    if spec.index is not None:
        return spec.index(root, split)
    images = load_split(dataset, split, data_root)
    return SplitIndex(list(images.image_names), images.labels, list(images.class_names))
