"""``mini-imagenet-generic``: Mini-ImageNet's images as a generic-recognition dataset, a stand-in of CIFAR's shape.

CIFAR is not on every machine; the Ravi & Larochelle **train and val** classes of Mini-ImageNet (80 classes of
600 images, read from the ``mini-imagenet`` folder: ``train.csv``, ``val.csv``, ``images/``) are. Each class is
split by a fixed rule: its images sorted by file name, the first 500 go to ``train`` and the rest (100) to
``test``. Images are resized to 32x32 (PIL bilinear, as every reader resizes) and declared with mean 0 / std 1
(raw pixels, like the CIFAR readers, NSL_SPEC §6). It has the shape of CIFAR-100 (600 small images per class,
500 / 100) with **80 classes, not 100**; the test classes of Mini-ImageNet (whose images are often withheld)
are not used.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.errors import DataError
from .cache import cached_loader
from .cifar import RAW_MEAN, RAW_STD
from .csvsplit import read_split_csv
from .decode import decode_image
from .mini_common import NAME as MINI_NAME, csv_path
from .plan import FileStamp, SplitIndex, SplitPlan, SplitSource, require_unique, stamp
from .registry import DATASETS, DatasetSpec

NAME = "mini-imagenet-generic"
DEFAULT_SIZE = 32
#: the Mini-ImageNet splits whose classes (and images) make up the dataset
SOURCE_SPLITS = ("train", "val")
#: images per class (in file-name order) that go to ``train``; the rest go to ``test``
TRAIN_PER_CLASS = 500
SPLITS = ("train", "test")


def split_index(root: Path, split: str) -> SplitIndex:
    """Names (image file names), labels and the 80 sorted classes of ``split``, from the two CSVs alone."""
    if split not in SPLITS:
        raise DataError(f"{NAME} has no split {split!r}; its splits are {', '.join(SPLITS)}")
    by_class: dict[str, list[str]] = {}
    for source_split in SOURCE_SPLITS:
        csv = csv_path(root, source_split)
        if not csv.is_file():
            raise DataError(f"{NAME} needs {csv} (the Mini-ImageNet {source_split} split) in {root}")
        for name, label in zip(*read_split_csv(csv)):
            by_class.setdefault(label, []).append(name)
    class_names = sorted(by_class)
    names: list[str] = []
    labels: list[int] = []
    for label, wnid in enumerate(class_names):
        files = sorted(by_class[wnid])
        if len(files) <= TRAIN_PER_CLASS:
            raise DataError(f"{NAME}: class {wnid} has {len(files)} images in {root}; the split needs more than "
                            f"{TRAIN_PER_CLASS} (the first {TRAIN_PER_CLASS} by file name train, the rest test)")
        chosen = files[:TRAIN_PER_CLASS] if split == "train" else files[TRAIN_PER_CLASS:]
        names += chosen
        labels += [label] * len(chosen)
    require_unique(names, f"{NAME}/{split} ({root})")
    return SplitIndex(names, np.asarray(labels, dtype=np.int64), class_names)


def source(root: Path | None, split: str, image_size: int = DEFAULT_SIZE) -> SplitSource:
    """The :class:`SplitSource` of ``split``: the listed JPEGs of ``root/images``, resized to ``image_size``."""
    assert root is not None
    if not (root / "images").is_dir():
        raise DataError(f"{NAME} reads Mini-ImageNet's images/ folder, and {root} has none")
    images = root / "images"
    index = split_index(root, split)

    def fingerprint() -> list[FileStamp]:
        out = [stamp(csv_path(root, s), root) for s in SOURCE_SPLITS]
        missing = [n for n in index.names if not (images / n).is_file()]
        if missing:
            raise DataError(f"{len(missing)} of the {len(index.names)} images of {NAME}/{split} are missing from "
                            f"{images} (first: {missing[0]})")
        return out + [stamp(images / n, root) for n in index.names]

    def open_plan() -> SplitPlan:
        def decode(i: int) -> np.ndarray:
            return decode_image(images / index.names[i], image_size, 3)

        return SplitPlan(index, decode, lambda i: str(images / index.names[i]))

    return SplitSource(NAME, split, image_size, 3, root, fingerprint, open_plan, RAW_MEAN, RAW_STD)


def find_splits(root: Path | None) -> tuple[str, ...]:
    """Both splits when ``root`` holds ``images/`` and the train and val CSVs, else none."""
    if root is None or not (root / "images").is_dir():
        return ()
    return SPLITS if all(csv_path(root, s).is_file() for s in SOURCE_SPLITS) else ()


DATASETS.register(NAME)(
    DatasetSpec(NAME, cached_loader(source), DEFAULT_SIZE, SPLITS, True, source=source, index=split_index,
                find_splits=find_splits, folder=MINI_NAME)
)

__all__ = ["NAME", "TRAIN_PER_CLASS", "find_splits", "source", "split_index"]
