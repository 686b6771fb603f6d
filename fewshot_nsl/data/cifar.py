"""CIFAR-10 and CIFAR-100 (Krizhevsky 2009) in their published Python pickle layout; never downloaded.

- ``cifar10``: ``cifar-10-batches-py/`` with ``data_batch_1`` .. ``data_batch_5`` (train), ``test_batch`` (test)
  and ``batches.meta`` (``label_names``).
- ``cifar100``: ``cifar-100-python/`` with ``train``, ``test`` and ``meta``; the **fine** labels (100 classes).

The data root is that folder itself or a folder holding it (``--data-root ~/data`` with
``~/data/cifar-10-batches-py/``, or ``$FEWSHOT_NSL_DATA/cifar10/``). Class names come from the meta file, in label
order; image ``k`` of file ``f`` is named ``f/<k:05d>``. The pickles are read by :mod:`.cifar_pickle`.
Images are declared with mean 0 and std 1, so the transforms hand the network raw 0-255 pixels, as the released
NSL code does on CIFAR (NSL_SPEC §6).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.errors import DataError
from .cache import cached_loader
from .cifar_pickle import SIDE, read_batch, read_class_names
from .decode import resize_array
from .plan import FileStamp, SplitIndex, SplitPlan, SplitSource, stamps
from .registry import DATASETS, DatasetSpec

#: raw 0-255 pixels into the network (NSL_SPEC §6): the transforms compute (x - 0) / 1
RAW_MEAN = (0.0, 0.0, 0.0)
RAW_STD = (1.0, 1.0, 1.0)


@dataclass(frozen=True)
class CifarLayout:
    """The files of one CIFAR dataset: its folder, the batch files of each split, the meta file and its keys."""

    name: str
    folder: str
    files: dict
    meta: str
    names_key: str
    label_key: str
    num_classes: int

    def data_dir(self, root: Path) -> Path:
        """``root`` when it holds the meta file, else ``root/<folder>``; DataError naming what was looked for."""
        for candidate in (root, root / self.folder):
            if (candidate / self.meta).is_file():
                return candidate
        raise DataError(f"no {self.name} files in {root}: looked for {self.meta} there and in "
                        f"{root / self.folder} (the published python-pickle version, extracted)")

    def split_files(self, data_dir: Path, split: str) -> list[Path]:
        if split not in self.files:
            raise DataError(f"{self.name} has no split {split!r}; its splits are {', '.join(self.files)}")
        return [data_dir / f for f in self.files[split]]


CIFAR10 = CifarLayout("cifar10", "cifar-10-batches-py",
                      {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)},
                      "batches.meta", "label_names", "labels", 10)
CIFAR100 = CifarLayout("cifar100", "cifar-100-python", {"train": ("train",), "test": ("test",)},
                       "meta", "fine_label_names", "fine_labels", 100)


def cifar_source(layout: CifarLayout, root: Path, split: str, image_size: int = SIDE) -> SplitSource:
    """The :class:`SplitSource` of one CIFAR split (nothing is read until it is opened)."""
    data_dir = layout.data_dir(root)
    files = layout.split_files(data_dir, split)
    meta = data_dir / layout.meta

    def fingerprint() -> list[FileStamp]:
        return stamps([meta, *files], data_dir, f"{layout.name} file")

    def open_plan() -> SplitPlan:
        class_names = read_class_names(meta, layout.names_key)
        if len(class_names) != layout.num_classes:
            raise DataError(f"{meta}: {len(class_names)} {layout.names_key}, expected {layout.num_classes}")
        images, labels, names, origin = [], [], [], []
        for path in files:
            pixels, file_labels = read_batch(path, layout.label_key, layout.num_classes)
            images.append(pixels)
            labels.append(file_labels)
            names += [f"{path.name}/{k:05d}" for k in range(len(pixels))]
            origin += [str(path)] * len(pixels)
        all_images = np.concatenate(images)

        def decode(i: int) -> np.ndarray:
            return resize_array(all_images[i], image_size)

        index = SplitIndex(names, np.concatenate(labels), class_names)
        return SplitPlan(index, decode, lambda i: origin[i])

    return SplitSource(layout.name, split, image_size, 3, data_dir, fingerprint, open_plan, RAW_MEAN, RAW_STD)


def _find_splits(layout: CifarLayout, root: Path | None) -> tuple[str, ...]:
    if root is None:
        return ()
    try:
        data_dir = layout.data_dir(root)
    except DataError:
        return ()
    return tuple(s for s, names in layout.files.items() if all((data_dir / n).is_file() for n in names))


def _register(layout: CifarLayout) -> None:
    def source(root: Path | None, split: str, image_size: int = SIDE) -> SplitSource:
        assert root is not None
        return cifar_source(layout, root, split, image_size)

    def index(root: Path | None, split: str) -> SplitIndex:
        """Names and labels of ``split`` (the pickles hold both beside the pixels, so they are read whole)."""
        return source(root, split).open().index

    DATASETS.register(layout.name)(
        DatasetSpec(layout.name, cached_loader(source), SIDE, tuple(layout.files), True, source=source,
                    index=index, find_splits=lambda root: _find_splits(layout, root))
    )


for _layout in (CIFAR10, CIFAR100):
    _register(_layout)

__all__ = ["CIFAR10", "CIFAR100", "RAW_MEAN", "RAW_STD", "CifarLayout", "cifar_source"]
