"""Your own images: ``root/<class>/<image>``, with splits chosen by CSV files or sub-folders.

For split ``S`` (first that applies):

1. ``root/S.csv`` (``filename,label``): its rows form the split; a filename is relative to ``root`` or to
   ``root/<label>/``.
2. ``root/S/<class>/<image>``: the sub-folder holds the split.
3. ``S == "all"`` and ``root`` holds class folders directly: every image.

Anything else is a DataError listing the splits that exist. Images are decoded to RGB; classes are sorted by name;
image names are paths relative to ``root`` (``cat/001.jpg``). Mean/std are measured on the split when it is
first cached.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.errors import DataError
from .cache import cached_loader
from .csvsplit import read_split_csv
from .decode import decode_image
from .plan import FileStamp, SplitIndex, SplitPlan, SplitSource, index_by_class, require_unique, stamps
from .registry import DATASETS, DatasetSpec

NAME = "folder"
DEFAULT_SIZE = 84
EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


def _visible(path: Path) -> bool:
    return not path.name.startswith(".")


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and _visible(p) and p.suffix.lower() in EXTENSIONS)


def _class_dirs(folder: Path) -> list[Path]:
    """Sub-folders of ``folder`` that directly hold images."""
    return [d for d in sorted(folder.iterdir()) if d.is_dir() and _visible(d) and _images_in(d)]


def available_splits(root: Path) -> list[str]:
    """The split names ``root`` offers: its CSV files, its split sub-folders, and ``all`` for class folders."""
    out = [p.stem for p in sorted(root.glob("*.csv")) if _visible(p)]
    out += [d.name for d in sorted(root.iterdir()) if d.is_dir() and _visible(d) and _class_dirs(d)]
    if _class_dirs(root):
        out.append("all")
    return sorted(set(out))


def _from_csv(root: Path, csv: Path) -> tuple[list[Path], list[str]]:
    filenames, labels = read_split_csv(csv)
    paths = []
    for name, label in zip(filenames, labels):
        direct, nested = root / name, root / label / name
        paths.append(direct if direct.is_file() or not nested.is_file() else nested)
    return paths, labels


def _from_folder(folder: Path) -> tuple[list[Path], list[str]]:
    paths, labels = [], []
    for d in _class_dirs(folder):
        for p in _images_in(d):
            paths.append(p)
            labels.append(d.name)
    return paths, labels


def _listing(root: Path, split: str) -> tuple[list[Path], list[str]]:
    """(image paths, class names) of ``split``."""
    if not root.is_dir():
        raise DataError(f"folder dataset root {root} is not a folder")
    if not any(p for p in root.iterdir() if _visible(p)):
        raise DataError(f"folder dataset root {root} is empty (expected <class>/<image> folders)")
    csv, sub = root / f"{split}.csv", root / split
    if csv.is_file():
        return _from_csv(root, csv)
    if sub.is_dir() and _class_dirs(sub):
        return _from_folder(sub)
    if split == "all" and _class_dirs(root):
        return _from_folder(root)
    found = ", ".join(available_splits(root)) or "none: no <class>/<image> folders"
    raise DataError(f"folder dataset {root} has no split {split!r}: no {split}.csv, no {split}/ folder "
                    f"(splits found: {found})")


def _index(root: Path, split: str) -> tuple[SplitIndex, list[Path]]:
    """The split's index (names relative to ``root``) and the path of each indexed image."""
    paths, labels = _listing(root, split)
    names = [p.relative_to(root).as_posix() if p.is_relative_to(root) else str(p) for p in paths]
    require_unique(names, f"folder dataset {root} split {split}")
    index = index_by_class(names, labels)
    by_name = dict(zip(names, paths))
    return index, [by_name[n] for n in index.names]


def source(root: Path, split: str, image_size: int = DEFAULT_SIZE) -> SplitSource:
    """The :class:`SplitSource` of one split of a folder dataset."""
    index, paths = _index(root, split)
    csv = root / f"{split}.csv"

    def fingerprint() -> list[FileStamp]:
        extra = [csv] if csv.is_file() else []
        return stamps(extra + paths, root, what=f"image of split {split!r}")

    def open_plan() -> SplitPlan:
        def decode(i: int) -> np.ndarray:
            return decode_image(paths[i], image_size, 3)

        return SplitPlan(index, decode, lambda i: str(paths[i]))

    return SplitSource(NAME, split, image_size, 3, root, fingerprint, open_plan, None, None)


def read_split_index(root: Path | None, split: str) -> SplitIndex:
    """Names, labels and classes of ``split`` (no decoding)."""
    assert root is not None
    return _index(root, split)[0]


load = cached_loader(source)


DATASETS.register(NAME)(
    DatasetSpec(NAME, load, DEFAULT_SIZE, ("train", "val", "test", "all"), True, source=source,
                index=read_split_index, find_splits=lambda root: tuple(available_splits(root)))
)
