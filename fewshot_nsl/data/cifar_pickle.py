"""Reading the published CIFAR-10/100 pickles (Krizhevsky's ``cifar-10-batches-py`` / ``cifar-100-python``).

Each file is a protocol-2 pickle written by Python 2's cPickle: a dict whose keys are Python 2 ``str`` (read
back with ``encoding="bytes"`` as ``b"data"``, ``b"labels"``, ...). A batch holds ``data`` (N, 3072) uint8 (the
1024 red, then green, then blue values of a 32x32 image, row-major) and ``labels`` (CIFAR-10) or
``fine_labels`` / ``coarse_labels`` (CIFAR-100) as lists of ints; the meta file holds ``label_names`` (CIFAR-10)
or ``fine_label_names`` (CIFAR-100).

The files are read with :func:`~fewshot_nsl.core.safe_pickle.safe_load` and its default allow-list, which is
all the official files need (numpy's ``_reconstruct``, ``ndarray`` and ``dtype``: a Python 2 ``str`` needs no
global). A protocol-2 pickle re-written by Python 3 names ``_codecs.encode`` for every bytes object; it is
refused like any global outside the list, since the published files never contain it.
"""

from __future__ import annotations

import pickle
import struct
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import DataError
from ..core.safe_pickle import NUMPY_ARRAYS, safe_load

#: CIFAR images are 32x32x3, stored channel-major per row of ``data``
SIDE = 32
ROW = 3 * SIDE * SIDE

#: what unpickling a truncated or foreign file raises
_DAMAGED = (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError, IndexError,
            KeyError, UnicodeDecodeError, struct.error, MemoryError, RecursionError)


def load_pickle(path: Path) -> dict[str, Any]:
    """The dict of a CIFAR pickle with its keys as ``str``; DataError (one line naming ``path``) otherwise."""
    try:
        with open(path, "rb") as f:
            head = f.read(64).lstrip()
            if head[:1] == b"<":
                raise DataError(f"{path} is an HTML page, not a CIFAR pickle (a failed download?)")
            f.seek(0)
            data = safe_load(f, NUMPY_ARRAYS, encoding="bytes")
    except DataError:
        raise
    except FileNotFoundError:
        raise DataError(f"CIFAR file {path} is missing") from None
    except OSError as exc:
        raise DataError(f"{path} is unreadable ({exc})") from None
    except _DAMAGED as exc:  # a damaged pickle fails in many ways
        raise DataError(f"{path} is truncated or not a CIFAR pickle ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, dict):
        raise DataError(f"{path} is not a CIFAR pickle (expected a dict, got {type(data).__name__})")
    return {k.decode("latin1") if isinstance(k, bytes) else str(k): v for k, v in data.items()}


def _require(data: dict[str, Any], key: str, path: Path) -> Any:
    if key not in data:
        raise DataError(f"{path} has no {key!r} entry (keys: {', '.join(sorted(data)) or 'none'}); "
                        "not a CIFAR file of this dataset")
    return data[key]


def read_batch(path: Path, label_key: str, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 32, 32, 3) uint8, labels (N,) int64) of one CIFAR batch file, validated.

    Args:
        label_key: ``labels`` (CIFAR-10) or ``fine_labels`` (CIFAR-100).
        num_classes: labels must lie in [0, num_classes).
    """
    data = load_pickle(path)
    pixels = _require(data, "data", path)
    labels = _require(data, label_key, path)
    if not isinstance(pixels, np.ndarray) or pixels.dtype != np.uint8 or pixels.ndim != 2 or pixels.shape[1] != ROW:
        shape = getattr(pixels, "shape", type(pixels).__name__)
        raise DataError(f"{path}: 'data' must be an (N, {ROW}) uint8 array, got {shape}")
    try:
        label_array = np.asarray(labels, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError):
        raise DataError(f"{path}: {label_key!r} must be a list of ints") from None
    if len(label_array) != len(pixels):
        raise DataError(f"{path}: {len(pixels)} images but {len(label_array)} {label_key}")
    if len(label_array) and (label_array.min() < 0 or label_array.max() >= num_classes):
        raise DataError(f"{path}: {label_key} must lie in [0, {num_classes}), got {label_array.min()}.."
                        f"{label_array.max()}")
    images = pixels.reshape(-1, 3, SIDE, SIDE).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), label_array


def read_class_names(path: Path, names_key: str) -> list[str]:
    """The class names of a CIFAR meta file (``label_names`` or ``fine_label_names``), in label order."""
    names = _require(load_pickle(path), names_key, path)
    if not isinstance(names, (list, tuple)) or not names or not all(isinstance(n, (bytes, str)) for n in names):
        raise DataError(f"{path}: {names_key!r} must be a non-empty list of names")
    out = [n.decode("latin1") if isinstance(n, bytes) else n for n in names]
    if len(set(out)) != len(out):
        raise DataError(f"{path}: {names_key!r} lists a class twice")
    return out


__all__ = ["ROW", "SIDE", "load_pickle", "read_batch", "read_class_names"]
