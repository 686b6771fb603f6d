"""Tiny on-disk datasets built in tmp_path: Ravi CSV + JPEGs, learn2learn pickles, torchmeta HDF5, Omniglot zips."""

from __future__ import annotations

import io
import json
import pickle
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def random_rgb(rng: np.random.Generator, size: int) -> np.ndarray:
    """A smooth random (size, size, 3) uint8 image (smooth so JPEG keeps it close)."""
    base = rng.integers(0, 256, (4, 4, 3)).astype(np.uint8)
    return np.asarray(Image.fromarray(base).resize((size, size), Image.BILINEAR))


class Builders:
    """Factories of small datasets; every image is a function of (class, position)."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path

    # -- Mini-ImageNet ------------------------------------------------------------------------
    @staticmethod
    def wnids(split: str, n: int) -> list[str]:
        offset = {"train": 100, "val": 200, "test": 300}.get(split, 400)
        return [f"n{offset + i:08d}" for i in range(n)]

    def mini_arrays(self, split: str, classes: int, per_class: int, size: int) -> dict[str, np.ndarray]:
        """{wnid: (per_class, size, size, 3) uint8}."""
        out = {}
        for c, wnid in enumerate(self.wnids(split, classes)):
            rng = np.random.default_rng([zlib.crc32(split.encode()), c])
            out[wnid] = np.stack([random_rgb(rng, size) for _ in range(per_class)])
        return out

    def ravi(self, root: Path, splits: dict[str, tuple], size: int = 16, write_images: bool = True) -> Path:
        """Layout A: ``splits = {"train": (classes, per_class), ...}``; returns root."""
        (root / "images").mkdir(parents=True, exist_ok=True)
        for split, (classes, per_class) in splits.items():
            rows = ["filename,label"]
            for wnid, images in self.mini_arrays(split, classes, per_class, size).items():
                for k, image in enumerate(images):
                    name = f"{wnid}{k + 1:08d}.jpg"
                    rows.append(f"{name},{wnid}")
                    if write_images:
                        Image.fromarray(image).save(root / "images" / name, quality=95)
            (root / f"{split}.csv").write_text("\n".join(rows) + "\n")
        return root

    def csv_only(self, root: Path, split: str, classes: int, per_class: int) -> Path:
        root.mkdir(parents=True, exist_ok=True)
        rows = ["filename,label"] + [f"{w}{k + 1:08d}.jpg,{w}" for w in self.wnids(split, classes)
                                     for k in range(per_class)]
        (root / f"{split}.csv").write_text("\n".join(rows) + "\n")
        return root

    def pickle_cache(self, root: Path, split: str, classes: int, per_class: int, size: int = 16,
                     name: str | None = None, shuffle: bool = True) -> Path:
        """Layout B; images stored in a shuffled order so that class_dict indices matter."""
        root.mkdir(parents=True, exist_ok=True)
        arrays = self.mini_arrays(split, classes, per_class, size)
        flat = np.concatenate(list(arrays.values()))
        order = np.random.default_rng(0).permutation(len(flat)) if shuffle else np.arange(len(flat))
        inverse = np.argsort(order)
        class_dict = {w: [int(inverse[c * per_class + k]) for k in range(per_class)] for c, w in enumerate(arrays)}
        path = root / (name or f"mini-imagenet-cache-{'validation' if split == 'val' else split}.pkl")
        with open(path, "wb") as f:
            pickle.dump({"image_data": flat[order], "class_dict": class_dict}, f, protocol=4)
        return path

    def hdf5(self, root: Path, split: str, classes: int, per_class: int, size: int = 16) -> Path:
        """Layout C (torchmeta)."""
        h5py = pytest.importorskip("h5py")
        root.mkdir(parents=True, exist_ok=True)
        arrays = self.mini_arrays(split, classes, per_class, size)
        with h5py.File(root / f"{split}_data.hdf5", "w") as f:
            group = f.create_group("datasets")
            for wnid, images in arrays.items():
                group.create_dataset(wnid, data=images)
        (root / f"{split}_labels.json").write_text(json.dumps(sorted(arrays)))
        return root

    # -- Omniglot -----------------------------------------------------------------------------
    @staticmethod
    def glyph(seed: int, size: int = 20) -> bytes:
        """A 1-bit PNG: black strokes on white, like Omniglot's."""
        rng = np.random.default_rng(seed)
        ink = np.ones((size, size), bool)
        r, c = rng.integers(2, size - 6, 2)
        ink[r:r + 4, 2:size - 2] = False
        ink[2:size - 2, c:c + 3] = False
        ink[rng.integers(0, size, 5), rng.integers(0, size, 5)] = False
        buf = io.BytesIO()
        Image.fromarray(ink).convert("1").save(buf, format="PNG")
        return buf.getvalue()

    def omniglot_chars(self, set_name: str) -> dict[str, list[str]]:
        """{"Alphabet/characterNN": [png names]} of a tiny set (2 alphabets x 2 characters x 3 drawers)."""
        alphabets = ["Latin", "Greek"] if set_name == "background" else ["Tengwar", "Atlantean"]
        return {f"{a}/character{c:02d}": [f"{i:04d}_{d:02d}.png" for d in (1, 2, 3)]
                for i, (a, c) in enumerate((a, c) for a in alphabets for c in (1, 2))}

    def omniglot(self, root: Path, as_zip: bool = True, vinyals: dict[str, list[str]] | None = None) -> Path:
        root.mkdir(parents=True, exist_ok=True)
        for set_name in ("background", "evaluation"):
            chars = self.omniglot_chars(set_name)
            files = {f"images_{set_name}/{k}/{f}": self.glyph(zlib.crc32(f"{set_name}/{k}/{f}".encode()))
                     for k, fs in chars.items() for f in fs}
            if as_zip:
                with zipfile.ZipFile(root / f"images_{set_name}.zip", "w") as zf:
                    for name, data in files.items():
                        zf.writestr(name, data)
            else:
                for name, data in files.items():
                    (root / name).parent.mkdir(parents=True, exist_ok=True)
                    (root / name).write_bytes(data)
        vinyals = vinyals if vinyals is not None else {
            "train": [f"Latin/character01/rot{d:03d}" for d in (0, 90, 180, 270)] + ["Tengwar/character02/rot000"],
            "val": ["Greek/character02/rot090", "Atlantean/character01/rot000"],
        }
        (root / "splits" / "vinyals").mkdir(parents=True, exist_ok=True)
        for split, lines in vinyals.items():
            (root / "splits" / "vinyals" / f"{split}.txt").write_text("\n".join(lines) + "\n")
        return root


@pytest.fixture
def build(tmp_path: Path) -> Builders:
    return Builders(tmp_path)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep caches of read-only roots out of the user's home during tests."""
    monkeypatch.setenv("FEWSHOT_NSL_CACHE", str(tmp_path / "user-cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
