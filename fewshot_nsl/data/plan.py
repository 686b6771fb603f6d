"""What a reader hands to the cache: a split's index (names, labels, classes) and how to decode each image.

A reader turns ``(root, split, image_size)`` into a :class:`SplitSource`. The source is cheap to build: it only
knows which files the split is read from (:meth:`SplitSource.fingerprint`, the cache key) and how to open the
split (:meth:`SplitSource.open` -> :class:`SplitPlan`), which reads the index and returns a per-image decoder.
The cache decodes every image once into a memory-mapped ``.npy``; ``data check`` decodes them one by one and
collects the failures.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..core.errors import DataError

#: (file name relative to the data folder, size in bytes, mtime in ns)
FileStamp = tuple[str, int, int]


class SplitIndex(NamedTuple):
    """Names and labels of one split, without pixels.

    Attributes:
        names: (N,) unique image names (episode files refer to images by them).
        labels: (N,) int64 class indices into ``class_names``.
        class_names: the split's classes.
    """

    names: list[str]
    labels: np.ndarray
    class_names: list[str]


@dataclass
class SplitPlan:
    """An opened split: its index and a decoder.

    Attributes:
        index: names, labels and classes.
        decode: ``decode(i)`` -> (image_size, image_size, channels) uint8 image ``i``; raises DataError naming
            the culprit file. Must be safe to call from several threads.
        describe: ``describe(i)`` -> the file image ``i`` is read from (for problem reports).
    """

    index: SplitIndex
    decode: Callable[[int], np.ndarray]
    describe: Callable[[int], str]


@dataclass
class SplitSource:
    """One split of one dataset before anything is decoded.

    Attributes:
        dataset, split: names.
        image_size: side length of the decoded images.
        channels: 3 (RGB) or 1 (grey).
        data_dir: the data folder (a cache may be kept beside it); None for generated data.
        fingerprint: ``fingerprint()`` -> stamps of every file the split is read from (raises DataError for a
            missing file); the cache key.
        open: ``open()`` -> :class:`SplitPlan`.
        mean, std: per-channel normalisation (0-255); None: measured on the split when it is cached.
        cacheable: False for data generated in code (never written to disk).
    """

    dataset: str
    split: str
    image_size: int
    channels: int
    data_dir: Path | None
    fingerprint: Callable[[], list[FileStamp]]
    open: Callable[[], SplitPlan]
    mean: Sequence[float] | None = None
    std: Sequence[float] | None = None
    cacheable: bool = True


def stamp(path: Path, base: Path, what: str = "file") -> FileStamp:
    """(name relative to ``base``, size, mtime_ns) of ``path``; DataError naming it when it is missing."""
    try:
        st = os.stat(path)
    except OSError:
        raise DataError(f"{what} {path} is missing") from None
    try:
        name = path.relative_to(base).as_posix()
    except ValueError:
        name = path.as_posix()
    return (name, int(st.st_size), int(st.st_mtime_ns))


def stamps(paths: Iterable[Path], base: Path, what: str = "file") -> list[FileStamp]:
    """:func:`stamp` of every path."""
    return [stamp(p, base, what) for p in paths]


def index_by_class(names: Sequence[str], label_names: Sequence[str]) -> SplitIndex:
    """A :class:`SplitIndex` with classes sorted by name and images grouped by class (stable within a class)."""
    class_names = sorted(set(label_names))
    lookup = {c: i for i, c in enumerate(class_names)}
    labels = np.fromiter((lookup[c] for c in label_names), dtype=np.int64, count=len(label_names))
    order = np.argsort(labels, kind="stable")
    return SplitIndex([names[i] for i in order], labels[order], class_names)


def require_unique(names: Sequence[str], where: str) -> None:
    """DataError naming the first duplicate image name of ``where``."""
    seen = set()
    for n in names:
        if n in seen:
            raise DataError(f"{where}: image {n!r} is listed twice")
        seen.add(n)
