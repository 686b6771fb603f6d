"""Mini-ImageNet layout C: torchmeta's ``<split>_data.hdf5`` + ``<split>_labels.json``.

The HDF5 file has a group ``datasets`` with one (n, 84, 84, 3) uint8 dataset per class (WordNet id); the JSON
file is the list of class names. Reading it needs h5py (``pip install fewshot-nsl[hdf5]``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..core.errors import DataError
from .decode import resize_array
from .mini_common import MEAN, NAME, STD, class_image_names, csv_path
from .plan import SplitIndex, SplitPlan, SplitSource, stamps


def hdf5_paths(root: Path, split: str) -> tuple[Path, Path]:
    """(``<split>_data.hdf5``, ``<split>_labels.json``)."""
    return root / f"{split}_data.hdf5", root / f"{split}_labels.json"


def find_hdf5(root: Path, split: str) -> tuple[Path, Path] | None:
    data, labels = hdf5_paths(root, split)
    return (data, labels) if data.is_file() else None


def _read_labels(path: Path) -> list[str]:
    try:
        labels = json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(f"{path} is missing (torchmeta keeps the class names beside the .hdf5 file)") from None
    except (OSError, ValueError) as exc:
        raise DataError(f"{path} is unreadable or not JSON ({exc})") from None
    if not isinstance(labels, list) or not labels or not all(isinstance(c, str) for c in labels):
        raise DataError(f"{path} must hold a non-empty JSON list of class names")
    return labels


def _open_h5(path: Path):
    try:
        import h5py
    except ImportError:
        raise DataError(f"reading {path} needs h5py: pip install fewshot-nsl[hdf5]") from None
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise DataError(f"{path} is truncated or not an HDF5 file ({exc})") from None


def hdf5_source(root: Path, split: str, image_size: int, data_path: Path, labels_path: Path) -> SplitSource:
    """The :class:`SplitSource` of a torchmeta HDF5 split (named by ``<split>.csv`` when it sits beside it)."""
    csv = csv_path(root, split)

    def fingerprint():
        return stamps([data_path, labels_path] + ([csv] if csv.is_file() else []), root)

    def open_plan() -> SplitPlan:
        class_names = sorted(_read_labels(labels_path))
        h5 = _open_h5(data_path)
        group = h5.get("datasets")
        if group is None:
            raise DataError(f"{data_path} has no 'datasets' group (not a torchmeta Mini-ImageNet file)")
        arrays = []
        for c in class_names:
            ds = group.get(c)
            if ds is None:
                raise DataError(f"{data_path}: class {c!r} of {labels_path.name} has no dataset")
            if ds.dtype != np.uint8 or ds.ndim != 4 or ds.shape[-1] != 3 or ds.shape[0] == 0:
                raise DataError(f"{data_path}: dataset {c!r} must be (n, H, W, 3) uint8, got {ds.shape} {ds.dtype}")
            arrays.append(ds)
        names_of = class_image_names(root, split, {c: len(a) for c, a in zip(class_names, arrays)}, data_path)
        names = [n for c in class_names for n in names_of[c]]
        labels = np.repeat(np.arange(len(class_names)), [len(a) for a in arrays]).astype(np.int64)
        starts = np.concatenate([[0], np.cumsum([len(a) for a in arrays])])

        def decode(i: int) -> np.ndarray:
            c = int(labels[i])
            try:
                image = arrays[c][i - starts[c]]
            except (OSError, ValueError) as exc:
                raise DataError(f"{data_path}: image {names[i]} is unreadable ({exc})") from None
            return resize_array(image, image_size)

        return SplitPlan(SplitIndex(names, labels, class_names), decode, lambda i: str(data_path))

    return SplitSource(NAME, split, image_size, 3, root, fingerprint, open_plan, MEAN, STD)
