"""Mini-ImageNet layout B: learn2learn / renmengye pickle caches ``mini-imagenet-cache-<split>.pkl``.

Each pickle is a dict with ``image_data`` (N, 84, 84, 3) uint8 and ``class_dict`` (WordNet id -> indices into
``image_data``). The pickle is read with :func:`~fewshot_nsl.core.safe_pickle.safe_load`, which only admits
numpy arrays and plain containers, so a hostile file cannot run code.
"""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import numpy as np

from ..core.errors import DataError
from ..core.safe_pickle import NUMPY_ARRAYS, safe_load
from .decode import resize_array
from .mini_common import MEAN, NAME, STD, class_image_names, csv_path
from .plan import SplitIndex, SplitPlan, SplitSource, stamps

#: what unpickling a truncated or foreign file raises
_DAMAGED = (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError, IndexError,
            KeyError, UnicodeDecodeError, struct.error, MemoryError, RecursionError)


def pickle_candidates(root: Path, split: str) -> list[Path]:
    """Pickle names for ``split``; learn2learn calls the val split ``validation``."""
    aliases = ("validation", "val") if split == "val" else (split,)
    return [root / f"mini-imagenet-cache-{a}.pkl" for a in aliases]


def find_pickle(root: Path, split: str) -> Path | None:
    return next((p for p in pickle_candidates(root, split) if p.is_file()), None)


def read_pickle(path: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(image_data (N, H, W, 3) uint8, class -> int64 indices) of a pickle cache, validated.

    Raises:
        DataError: the file is an HTML page, truncated, not a pickle, or not shaped like a Mini-ImageNet cache.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(64).lstrip()
            if head[:1] == b"<":
                raise DataError(f"{path} is an HTML page, not a pickle (a failed Google Drive download?)")
            f.seek(0)
            data = safe_load(f, NUMPY_ARRAYS, encoding="latin1")
    except DataError:
        raise
    except OSError as exc:
        raise DataError(f"{path} is unreadable ({exc})") from None
    except _DAMAGED as exc:  # a damaged pickle fails in many ways
        raise DataError(f"{path} is truncated or not a Mini-ImageNet pickle ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, dict) or "image_data" not in data or "class_dict" not in data:
        raise DataError(f"{path} is not a Mini-ImageNet pickle (expected a dict with image_data and class_dict)")
    images, classes = data["image_data"], data["class_dict"]
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
        shape = getattr(images, "shape", type(images).__name__)
        raise DataError(f"{path}: image_data must be a (N, H, W, 3) uint8 array, got {shape}")
    if not isinstance(classes, dict) or not classes:
        raise DataError(f"{path}: class_dict must be a non-empty dict of class -> image indices")
    out: dict[str, np.ndarray] = {}
    for label, indices in classes.items():
        idx = np.asarray(indices).reshape(-1)
        if idx.size == 0 or idx.dtype.kind not in "iu" or idx.min() < 0 or idx.max() >= len(images):
            raise DataError(f"{path}: class_dict[{label!r}] holds invalid image indices")
        key = label.decode() if isinstance(label, bytes) else str(label)
        out[key] = idx.astype(np.int64)
    return images, out


def pickle_source(root: Path, split: str, image_size: int, path: Path) -> SplitSource:
    """The :class:`SplitSource` of a learn2learn pickle (named by ``<split>.csv`` when it sits beside it)."""
    csv = csv_path(root, split)

    def fingerprint():
        return stamps([path] + ([csv] if csv.is_file() else []), root)

    def open_plan() -> SplitPlan:
        images, classes = read_pickle(path)
        class_names = sorted(classes)
        names_of = class_image_names(root, split, {c: len(classes[c]) for c in class_names}, path)
        names, labels, rows = [], [], []
        for label, c in enumerate(class_names):
            names += names_of[c]
            labels += [label] * len(classes[c])
            rows.append(classes[c])
        row = np.concatenate(rows)

        def decode(i: int) -> np.ndarray:
            return resize_array(images[row[i]], image_size)

        return SplitPlan(SplitIndex(names, np.asarray(labels, np.int64), class_names), decode, lambda i: str(path))

    return SplitSource(NAME, split, image_size, 3, root, fingerprint, open_plan, MEAN, STD)


__all__ = ["find_pickle", "pickle_candidates", "pickle_source", "read_pickle"]
