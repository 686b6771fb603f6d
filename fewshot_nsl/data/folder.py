"""Your own images: ``root/<class>/<image>``, with splits chosen by CSV files or sub-folders.

For split ``S`` (first that applies):

1. ``root/S.csv`` (``filename,label``): its rows form the split; a filename is relative to ``root`` or to
   ``root/<label>/``.
2. ``root/S/<class>/<image>``: the sub-folder holds the split.
3. ``S == "all"`` and ``root`` holds class folders directly: every image.
4. ``root`` holds class folders only (no split CSV, no split sub-folder) and a :class:`~.class_split.ClassSplit`
   is given (``data.class_split``): ``train``/``val``/``test`` are class-disjoint parts of the class folders, by
   the rule of :mod:`.class_split`. Given for a folder that has splits of its own, it is a DataError.

Anything else is a DataError listing the splits that exist. Images are decoded to RGB; classes are sorted by name;
image names are paths relative to ``root`` (``cat/001.jpg``). Mean/std are measured on the split when it is
first cached.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..core.errors import DataError
from .cache import cached_loader
from .class_split import ClassSplit, split_classes
from .csvsplit import read_split_csv
from .decode import decode_image
from .plan import FileStamp, SplitIndex, SplitPlan, SplitSource, index_by_class, require_unique, stamps
from .registry import DATASETS, DatasetSpec

NAME = "folder"
DEFAULT_SIZE = 84
EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"}

log = logging.getLogger(__name__)


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


def _from_folder(folder: Path, classes: set[str] | None = None) -> tuple[list[Path], list[str]]:
    """Images of the class folders of ``folder`` (only those named in ``classes`` when given)."""
    paths, labels = [], []
    for d in _class_dirs(folder):
        if classes is not None and d.name not in classes:
            continue
        for p in _images_in(d):
            paths.append(p)
            labels.append(d.name)
    return paths, labels


def _check_root(root: Path) -> None:
    if not root.is_dir():
        raise DataError(f"folder dataset root {root} is not a folder")
    if not any(p for p in root.iterdir() if _visible(p)):
        raise DataError(f"folder dataset root {root} is empty (expected <class>/<image> folders)")


def class_split_of(root: Path, rule: ClassSplit) -> dict[str, list[str]]:
    """The classes of each of train/val/test when the class folders of ``root`` are split by ``rule``; DataError
    when ``root`` has splits of its own (CSV files or split sub-folders) or too few classes."""
    _check_root(root)
    own = [s for s in available_splits(root) if s != "all"]
    if own:
        raise DataError(f"folder dataset {root} already has splits ({', '.join(own)}): data.class_split applies "
                        "only to plain <class>/<image> folders; remove it or the split files")
    if not _class_dirs(root):
        raise DataError(f"folder dataset {root} has no <class>/<image> folders to split by data.class_split")
    return split_classes([d.name for d in _class_dirs(root)], rule, f"folder dataset {root}")


def _split_by_rule(root: Path, split: str, rule: ClassSplit) -> tuple[list[Path], list[str]]:
    splits = class_split_of(root, rule)
    if split == "all":
        return _from_folder(root)
    if split not in splits:
        raise DataError(f"folder dataset {root} split by data.class_split has splits train, val, test and all, "
                        f"not {split!r}")
    if not splits[split]:
        raise DataError(f"folder dataset {root}: data.class_split {rule.describe()} gives split {split!r} no class")
    log.info("folder dataset %s, class_split %s: split %s = %d of %d classes", root, rule.describe(), split,
             len(splits[split]), sum(len(v) for v in splits.values()))
    return _from_folder(root, set(splits[split]))


def _listing(root: Path, split: str, class_split: ClassSplit | None = None) -> tuple[list[Path], list[str]]:
    """(image paths, class names) of ``split``."""
    if class_split is not None:
        return _split_by_rule(root, split, class_split)
    _check_root(root)
    csv, sub = root / f"{split}.csv", root / split
    if csv.is_file():
        return _from_csv(root, csv)
    if sub.is_dir() and _class_dirs(sub):
        return _from_folder(sub)
    if split == "all" and _class_dirs(root):
        return _from_folder(root)
    found = ", ".join(available_splits(root)) or "none: no <class>/<image> folders"
    hint = "; split its classes with --set data.class_split=0.64,0.16,0.20" if found == "all" else ""
    raise DataError(f"folder dataset {root} has no split {split!r}: no {split}.csv, no {split}/ folder "
                    f"(splits found: {found}){hint}")


def _index(root: Path, split: str, class_split: ClassSplit | None = None) -> tuple[SplitIndex, list[Path]]:
    """The split's index (names relative to ``root``) and the path of each indexed image."""
    paths, labels = _listing(root, split, class_split)
    names = [p.relative_to(root).as_posix() if p.is_relative_to(root) else str(p) for p in paths]
    require_unique(names, f"folder dataset {root} split {split}")
    index = index_by_class(names, labels)
    by_name = dict(zip(names, paths))
    return index, [by_name[n] for n in index.names]


def source(root: Path, split: str, image_size: int = DEFAULT_SIZE, class_split: ClassSplit | None = None
           ) -> SplitSource:
    """The :class:`SplitSource` of one split of a folder dataset (its cache key is the split's files, so each
    class split has its own cache)."""
    index, paths = _index(root, split, class_split)
    csv = root / f"{split}.csv"

    def fingerprint() -> list[FileStamp]:
        extra = [csv] if csv.is_file() else []
        return stamps(extra + paths, root, what=f"image of split {split!r}")

    def open_plan() -> SplitPlan:
        def decode(i: int) -> np.ndarray:
            return decode_image(paths[i], image_size, 3)

        return SplitPlan(index, decode, lambda i: str(paths[i]))

    return SplitSource(NAME, split, image_size, 3, root, fingerprint, open_plan, None, None)


def read_split_index(root: Path | None, split: str, class_split: ClassSplit | None = None) -> SplitIndex:
    """Names, labels and classes of ``split`` (no decoding)."""
    assert root is not None
    return _index(root, split, class_split)[0]


load = cached_loader(source)


DATASETS.register(NAME)(
    DatasetSpec(NAME, load, DEFAULT_SIZE, ("train", "val", "test", "all"), True, source=source,
                index=read_split_index, find_splits=lambda root: tuple(available_splits(root)),
                class_split=class_split_of)
)
