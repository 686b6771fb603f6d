"""Small CIFAR files in exactly the published format: protocol-2 pickles as Python 2's cPickle writes them.

Python 3's pickler writes a ``bytes`` object at protocol 2 as ``_codecs.encode(str, 'latin1')``; the published
files hold Python 2 ``str`` objects (SHORT_BINSTRING / BINSTRING) and name numpy under ``numpy.core``. This
writer emits exactly those opcodes. (Imported by name: keep this file name unique in the tree.)
"""

from __future__ import annotations

import io
import pickle
import struct
from pathlib import Path

import numpy as np


class Py2Pickler(pickle._Pickler):
    """Protocol 2 with every str/bytes as a Python 2 ``str`` and globals named as Python 2 names them."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_py2_str(self, obj):
        data = obj.encode("latin1") if isinstance(obj, str) else bytes(obj)
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    def save_global(self, obj, name=None):
        module, name = obj.__module__, name or obj.__qualname__
        module = module.replace("numpy._core", "numpy.core").replace("builtins", "__builtin__")
        self.write(pickle.GLOBAL + module.encode() + b"\n" + name.encode() + b"\n")
        self.memoize(obj)

    dispatch[str] = save_py2_str
    dispatch[bytes] = save_py2_str
    dispatch[type] = save_global


def py2_dumps(obj) -> bytes:
    buffer = io.BytesIO()
    Py2Pickler(buffer, 2).dump(obj)
    return buffer.getvalue()


def image(label: int, k: int) -> np.ndarray:
    """(32, 32, 3) uint8 image k of class ``label``: a function of both."""
    rng = np.random.default_rng([label, k])
    return rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)


def batch(labels: list[int], start: int, label_key: str) -> dict:
    rows = np.stack([image(c, start + k).transpose(2, 0, 1).reshape(-1) for k, c in enumerate(labels)])
    out = {b"batch_label": b"a batch", b"data": rows, b"filenames": [f"img_{start + k}.png".encode()
                                                                       for k in range(len(labels))]}
    out[label_key.encode()] = list(labels)
    if label_key == "fine_labels":
        out[b"coarse_labels"] = [c // 5 for c in labels]
    return out


def write_cifar10(root: Path, per_file: int = 6) -> Path:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for i in range(1, 6):
        labels = [(i + k) % 10 for k in range(per_file)]
        (folder / f"data_batch_{i}").write_bytes(py2_dumps(batch(labels, 100 * i, "labels")))
    (folder / "test_batch").write_bytes(py2_dumps(batch([k % 10 for k in range(per_file)], 0, "labels")))
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]
    (folder / "batches.meta").write_bytes(py2_dumps({b"label_names": names, b"num_cases_per_batch": per_file,
                                                     b"num_vis": 3072}))
    return folder


def write_cifar100(root: Path, per_file: int = 8) -> Path:
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    for split, offset in (("train", 0), ("test", 50)):
        labels = [(offset + 7 * k) % 100 for k in range(per_file)]
        (folder / split).write_bytes(py2_dumps(batch(labels, offset, "fine_labels")))
    meta = {b"fine_label_names": [f"class{c:02d}".encode() for c in range(100)],
            b"coarse_label_names": [f"super{c:02d}".encode() for c in range(20)]}
    (folder / "meta").write_bytes(py2_dumps(meta))
    return folder
