"""Mini-ImageNet (Vinyals et al. 2016; Ravi & Larochelle split), in any of three on-disk layouts.

The layout is detected per split from the files in the root:

- A (Ravi): ``images/*.jpg`` + ``<split>.csv`` (``filename,label``); image name = the CSV filename.
- B (learn2learn): ``mini-imagenet-cache-<split>.pkl`` (``val`` is also found as ``validation``), see
  :mod:`.mini_pickle`.
- C (torchmeta): ``<split>_data.hdf5`` + ``<split>_labels.json``, see :mod:`.mini_hdf5`.

For B and C the images are named by ``<split>.csv`` when it sits in the same root, else ``<wnid>/<position>``.
Classes are WordNet ids in sorted order; images are grouped by class. Only the requested split's files are read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.errors import DataError
from .cache import cached_loader
from .csvsplit import read_split_csv
from .decode import decode_image
from .mini_common import DEFAULT_SIZE, MEAN, NAME, STD, csv_path
from .mini_hdf5 import find_hdf5, hdf5_paths, hdf5_source
from .mini_pickle import find_pickle, pickle_candidates, pickle_source
from .plan import FileStamp, SplitIndex, SplitPlan, SplitSource, index_by_class, require_unique, stamp
from .registry import DATASETS, DatasetSpec


def _csv_index(csv: Path) -> SplitIndex:
    filenames, labels = read_split_csv(csv)
    require_unique(filenames, str(csv))
    return index_by_class(filenames, labels)


def ravi_source(root: Path, split: str, image_size: int) -> SplitSource:
    """Layout A: ``<root>/<split>.csv`` naming JPEGs in ``<root>/images/``."""
    csv, images = csv_path(root, split), root / "images"

    def fingerprint() -> list[FileStamp]:
        names = _csv_index(csv).names
        out, missing = [stamp(csv, root)], []
        for name in names:
            try:
                out.append(stamp(images / name, root))
            except DataError:
                missing.append(name)
        if missing:
            raise DataError(
                f"{len(missing)} of the {len(names)} images listed in {csv} are missing from {images} "
                f"(first: {missing[0]})"
            )
        return out

    def open_plan() -> SplitPlan:
        index = _csv_index(csv)

        def decode(i: int) -> np.ndarray:
            return decode_image(images / index.names[i], image_size, 3)

        return SplitPlan(index, decode, lambda i: str(images / index.names[i]))

    return SplitSource(NAME, split, image_size, 3, root, fingerprint, open_plan, MEAN, STD)


def _looked_for(root: Path, split: str) -> str:
    pkl = " or ".join(p.name for p in pickle_candidates(root, split))
    data, labels = hdf5_paths(root, split)
    return f"{split}.csv + images/ (Ravi), {pkl} (learn2learn), {data.name} + {labels.name} (torchmeta)"


def source(root: Path, split: str, image_size: int = DEFAULT_SIZE) -> SplitSource:
    """The :class:`SplitSource` of ``split``, whichever layout ``root`` holds it in.

    Raises:
        DataError: the root is missing or empty, or holds no recognisable layout for ``split``.
    """
    if not root.is_dir():
        raise DataError(f"Mini-ImageNet root {root} is not a folder")
    if not any(root.iterdir()):
        raise DataError(f"Mini-ImageNet root {root} is empty (looked for {_looked_for(root, split)})")
    csv = csv_path(root, split)
    if csv.is_file() and (root / "images").is_dir():
        return ravi_source(root, split, image_size)
    pkl = find_pickle(root, split)
    if pkl is not None:
        return pickle_source(root, split, image_size, pkl)
    h5 = find_hdf5(root, split)
    if h5 is not None:
        return hdf5_source(root, split, image_size, *h5)
    if csv.is_file():
        raise DataError(f"{csv} is there but the images/ folder is missing from {root}")
    raise DataError(f"no Mini-ImageNet split {split!r} in {root}: looked for {_looked_for(root, split)}")


def read_split_index(root: Path, split: str) -> SplitIndex:
    """Names, labels and classes of ``split`` without decoding (or even needing) the images.

    With a Ravi ``<split>.csv`` in ``root`` this reads only the CSV (so it works for the test split of a copy
    that withholds the test images); otherwise it opens the pickle / HDF5 file.
    """
    csv = csv_path(root, split)
    if csv.is_file():
        return _csv_index(csv)
    return source(root, split).open().index


def find_splits(root: Path | None) -> tuple[str, ...]:
    """Splits present under ``root`` in any layout (a Ravi CSV counts only with an ``images/`` folder)."""
    assert root is not None
    found = set()
    if (root / "images").is_dir():
        found |= {p.stem for p in root.glob("*.csv")}
    for p in root.glob("mini-imagenet-cache-*.pkl"):
        name = p.stem[len("mini-imagenet-cache-"):]
        found.add("val" if name == "validation" else name)
    found |= {p.name[: -len("_data.hdf5")] for p in root.glob("*_data.hdf5")}
    order = {"train": 0, "val": 1, "test": 2}
    return tuple(sorted(found, key=lambda s: (order.get(s, 3), s)))


load = cached_loader(source)


DATASETS.register(NAME)(
    DatasetSpec(NAME, load, DEFAULT_SIZE, ("train", "val", "test"), True, source=source, index=read_split_index,
                find_splits=find_splits)
)
