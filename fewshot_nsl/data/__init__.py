"""Dataset readers. Every reader loads **one split** and returns an :class:`ImageSet`.

Readers register themselves with ``DATASETS.register(name)`` (from :mod:`.registry`) as a :class:`DatasetSpec`;
use :func:`load_split` to read one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

from ..core.errors import ConfigError
from ..core.registry import import_builtins
from .base import ImageSet
from .class_split import ClassSplit
from .plan import SplitIndex, SplitSource
from .registry import DATASETS, DatasetSpec
from .roots import resolve_root

import_builtins(__name__, __path__)  # every module of this package registers its built-ins

__all__ = ["DATASETS", "ClassSplit", "DatasetSpec", "ImageSet", "SplitIndex", "SplitSource", "class_split_of",
           "load_split", "split_index"]


def _rule_options(spec: DatasetSpec, class_split: Optional[ClassSplit]) -> Dict[str, Any]:
    """The keyword options of ``spec``'s reader for ``class_split``; ConfigError when the reader cannot split."""
    if class_split is None:
        return {}
    if spec.class_split is None:
        raise ConfigError(f"setting data.class_split: dataset {spec.name!r} has splits of its own (only a folder "
                          "dataset of plain class folders is split by class_split)")
    return {"class_split": class_split}


def load_split(
    dataset: str,
    split: str,
    data_root: Optional[str] = None,
    image_size: Optional[int] = None,
    cache_dir: Optional[str] = None,
    class_split: Optional[ClassSplit] = None,
) -> ImageSet:
    """Read one split of ``dataset``.

    Args:
        dataset: registry name.
        split: e.g. ``train``, ``val``, ``test``.
        data_root: the dataset's folder; when None, ``$FEWSHOT_NSL_DATA/<dataset>`` (see :mod:`.roots`).
        image_size: side length in pixels (default: the dataset's own).
        cache_dir: where the decoded uint8 cache lives (default: beside the data, or a user cache dir when
            the data folder is read-only).
        class_split: split the classes of a dataset that has no splits (``data.class_split``; see
            :mod:`.class_split`); ConfigError for a dataset whose reader cannot.
    """
    spec = DATASETS.get(dataset)
    options = _rule_options(spec, class_split)
    root = resolve_root(dataset, data_root) if spec.needs_root else (Path(data_root) if data_root else None)
    size = int(image_size or spec.default_image_size)
    return spec.load(root, split, size, Path(cache_dir) if cache_dir else None, **options)


def split_index(dataset: str, split: str, data_root: Optional[str] = None,
                class_split: Optional[ClassSplit] = None) -> SplitIndex:
    """Names, labels and classes of one split without decoding its images when the reader can (e.g. the
    Mini-ImageNet test split from ``test.csv`` alone); otherwise the split is loaded.
    """
    spec = DATASETS.get(dataset)
    options = _rule_options(spec, class_split)
    root = resolve_root(dataset, data_root) if spec.needs_root else (Path(data_root) if data_root else None)
    if spec.index is not None:
        return spec.index(root, split, **options)
    images = load_split(dataset, split, data_root, class_split=class_split)
    return SplitIndex(list(images.image_names), images.labels, list(images.class_names))


def class_split_of(dataset: str, data_root: Optional[str], class_split: ClassSplit) -> Dict[str, List[str]]:
    """``{"train": classes, "val": ..., "test": ...}``: how ``class_split`` splits the classes of ``dataset``."""
    spec = DATASETS.get(dataset)
    _rule_options(spec, class_split)
    assert spec.class_split is not None
    return spec.class_split(resolve_root(dataset, data_root), class_split)
