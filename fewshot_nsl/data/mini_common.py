"""Mini-ImageNet constants and the image naming shared by its three on-disk layouts."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from .csvsplit import read_split_csv

log = logging.getLogger(__name__)

NAME = "mini-imagenet"
DEFAULT_SIZE = 84
#: per-channel mean / std (0-255) of the Ravi train split (shared/data/README.md)
MEAN = (120.10, 114.82, 103.35)
STD = (69.29, 67.52, 71.02)


def csv_path(root: Path, split: str) -> Path:
    """``<root>/<split>.csv``, the Ravi & Larochelle split file."""
    return root / f"{split}.csv"


def class_image_names(root: Path, split: str, counts: Mapping[str, int], source: Path) -> dict[str, list[str]]:
    """Name of each image of each class for a pickle/HDF5 layout.

    When ``<root>/<split>.csv`` exists and lists the same number of images per class, the k-th image of a class
    is named by the k-th CSV row of that class; otherwise ``<wnid>/<position:04d>``.
    """
    fallback = {c: [f"{c}/{k:04d}" for k in range(n)] for c, n in counts.items()}
    path = csv_path(root, split)
    if not path.is_file():
        return fallback
    filenames, labels = read_split_csv(path)
    by_class: dict[str, list[str]] = {}
    for name, label in zip(filenames, labels):
        by_class.setdefault(label, []).append(name)
    mismatch: str | None = next(
        (c for c in set(counts) | set(by_class) if len(by_class.get(c, ())) != counts.get(c, 0)), None
    )
    if mismatch is not None:
        log.warning(
            "%s and %s disagree on class %s (%d vs %d images): naming images <wnid>/<position>",
            path, source, mismatch, len(by_class.get(mismatch, ())), counts.get(mismatch, 0),
        )
        return fallback
    return {c: by_class[c] for c in counts}
