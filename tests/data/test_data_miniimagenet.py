"""Mini-ImageNet in its three layouts (Ravi CSV + JPEGs, learn2learn pickle, torchmeta HDF5), built tiny."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fewshot_nsl.data import DATASETS, load_split, miniimagenet, split_index
from fewshot_nsl.data import plan as plan_module
from fewshot_nsl.data.mini_common import MEAN, STD


def load(root: Path, split: str, size: int = 16):
    return load_split("mini-imagenet", split, str(root), image_size=size)


def test_ravi_layout(build, tmp_path: Path) -> None:
    root = build.ravi(tmp_path / "mini", {"train": (3, 4), "val": (2, 5)})
    s = load(root, "val")
    assert s.images.shape == (10, 16, 16, 3) and s.images.dtype == np.uint8
    assert s.class_names == build.wnids("val", 2)
    assert s.image_names[0] == f"{build.wnids('val', 2)[0]}00000001.jpg"
    assert np.bincount(s.labels).tolist() == [5, 5]
    assert (tuple(s.mean), tuple(s.std)) == (MEAN, STD)
    # pixels are exactly PIL's decode of each named JPEG, and close to the arrays that were saved
    decoded = np.stack([np.asarray(Image.open(root / "images" / n).convert("RGB")) for n in s.image_names])
    assert np.array_equal(s.images, decoded)
    source = build.mini_arrays("val", 2, 5, 16)
    expected = np.concatenate([source[w] for w in s.class_names]).astype(int)
    assert np.abs(s.images.astype(int) - expected).mean() < 10


def test_ravi_groups_by_class_and_sorts_classes(build, tmp_path: Path) -> None:
    root = build.ravi(tmp_path / "mini", {"val": (2, 3)})
    lines = (root / "val.csv").read_text().splitlines()
    (root / "val.csv").write_text("\n".join([lines[0]] + lines[1:][::-1]) + "\n")  # reversed rows
    s = load(root, "val")
    assert s.class_names == sorted(s.class_names)
    assert np.all(np.diff(s.labels) >= 0)
    assert s.image_names[:3] == [line.split(",")[0] for line in lines[1:][::-1] if line.endswith(s.class_names[0])]


def test_images_of_other_size_are_resized(build, tmp_path: Path) -> None:
    root = build.ravi(tmp_path / "mini", {"val": (2, 2)}, size=20)
    assert load(root, "val", size=12).images.shape == (4, 12, 12, 3)


def test_only_the_requested_split_is_read(build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = build.ravi(tmp_path / "mini", {"train": (2, 2), "val": (2, 2), "test": (2, 2)})
    test_names = [line.split(",")[0] for line in (root / "test.csv").read_text().split()[1:]]
    touched = []
    real_stat, real_decode = plan_module.os.stat, miniimagenet.decode_image
    monkeypatch.setattr(plan_module.os, "stat", lambda p, *a, **k: (touched.append(str(p)), real_stat(p, *a, **k))[1])
    monkeypatch.setattr(
        miniimagenet, "decode_image", lambda p, *a, **k: (touched.append(str(p)), real_decode(p, *a, **k))[1]
    )
    assert len(load(root, "train").images) == 4
    assert len(load(root, "val").images) == 4
    assert any("images" in t for t in touched)
    assert not [t for t in touched if any(n in t for n in test_names)]
    for name in test_names:  # and the test images may be absent altogether
        (root / "images" / name).unlink()
    assert len(load(root, "val").images) == 4


def test_split_index_without_images(build, tmp_path: Path) -> None:
    root = build.ravi(tmp_path / "mini", {"val": (2, 2)})
    build.csv_only(root, "test", 3, 4)
    index = split_index("mini-imagenet", "test", str(root))
    assert len(index.names) == 12 and index.class_names == build.wnids("test", 3)
    assert index.labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4


def test_pickle_layout_named_by_csv(build, tmp_path: Path) -> None:
    ravi = build.ravi(tmp_path / "a", {"val": (3, 4)}, write_images=False)
    root = tmp_path / "b"
    build.pickle_cache(root, "val", 3, 4)
    (root / "val.csv").write_text((ravi / "val.csv").read_text())
    s = load(root, "val")
    source = build.mini_arrays("val", 3, 4, 16)
    assert s.class_names == sorted(source)
    assert np.array_equal(s.images, np.concatenate([source[w] for w in s.class_names]))  # lossless: exact
    assert s.image_names == split_index("mini-imagenet", "val", str(ravi)).names


def test_pickle_layout_without_csv_uses_positions(build, tmp_path: Path) -> None:
    build.pickle_cache(tmp_path, "train", 2, 3)
    s = load(tmp_path, "train")
    w = build.wnids("train", 2)
    assert s.image_names == [f"{w[0]}/{k:04d}" for k in range(3)] + [f"{w[1]}/{k:04d}" for k in range(3)]


def test_pickle_val_also_found_as_val(build, tmp_path: Path) -> None:
    build.pickle_cache(tmp_path, "val", 2, 2, name="mini-imagenet-cache-val.pkl")
    assert len(load(tmp_path, "val").images) == 4


def test_pickle_csv_mismatch_falls_back_to_positions(build, tmp_path: Path) -> None:
    build.pickle_cache(tmp_path, "val", 2, 3)
    build.csv_only(tmp_path, "val", 2, 2)  # 2 rows per class, the pickle has 3
    assert load(tmp_path, "val").image_names[0].endswith("/0000")


def test_hdf5_layout_equals_pickle_layout(build, tmp_path: Path) -> None:
    build.hdf5(tmp_path / "c", "val", 2, 3)
    build.pickle_cache(tmp_path / "b", "val", 2, 3)
    c, b = load(tmp_path / "c", "val"), load(tmp_path / "b", "val")
    assert np.array_equal(c.images, b.images)
    assert c.image_names == b.image_names and c.class_names == b.class_names
    assert np.array_equal(c.labels, b.labels)


def test_hdf5_resized(build, tmp_path: Path) -> None:
    build.hdf5(tmp_path, "val", 2, 2, size=16)
    assert load(tmp_path, "val", size=8).images.shape == (4, 8, 8, 3)


def test_find_splits(build, tmp_path: Path) -> None:
    root = build.ravi(tmp_path / "a", {"train": (1, 1), "val": (1, 1)})
    build.csv_only(root, "test", 1, 1)
    spec = DATASETS.get("mini-imagenet")
    assert spec.find_splits(root) == ("train", "val", "test")
    build.pickle_cache(tmp_path / "b", "val", 1, 1)
    assert spec.find_splits(tmp_path / "b") == ("val",)


def test_default_image_size_is_84(build, tmp_path: Path) -> None:
    build.pickle_cache(tmp_path, "val", 1, 2, size=84)
    assert load_split("mini-imagenet", "val", str(tmp_path)).images.shape == (2, 84, 84, 3)


@pytest.mark.parametrize("dataset,size", [("mini-imagenet", 84), ("omniglot", 28), ("folder", 84)])
def test_registered_defaults(dataset: str, size: int) -> None:
    assert DATASETS.get(dataset).default_image_size == size
