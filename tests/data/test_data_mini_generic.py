"""The Mini-ImageNet-as-CIFAR stand-in (``mini-imagenet-generic``): its fixed per-class split rule, on a tiny copy
and on the real images when they are here."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fewshot_nsl.core.errors import DataError
from fewshot_nsl.data import load_split, mini_generic
from fewshot_nsl.data.roots import resolve_root


def tiny_copy(root: Path, per_class: int = 4) -> Path:
    (root / "images").mkdir(parents=True)
    for split, wnids in (("train", ["n002", "n001"]), ("val", ["n003"])):
        rows = ["filename,label"]
        for c, wnid in enumerate(wnids):
            for k in reversed(range(per_class)):  # listed out of order: the rule sorts by file name
                name = f"{wnid}{k:08d}.jpg"
                Image.new("RGB", (84, 84), (40 * c + 10 * k, 100, 200)).save(root / "images" / name)
                rows.append(f"{name},{wnid}")
        (root / f"{split}.csv").write_text("\n".join(rows) + "\n")
    (root / "test.csv").write_text("filename,label\nn009.jpg,n009\n")  # test classes are not used
    return root


def test_first_images_by_name_train_the_rest_test(tmp_path, monkeypatch):
    monkeypatch.setattr(mini_generic, "TRAIN_PER_CLASS", 3)
    root = tiny_copy(tmp_path / "mini-imagenet")
    train = load_split("mini-imagenet-generic", "train", str(root), cache_dir=str(tmp_path / "c"))
    test = load_split("mini-imagenet-generic", "test", str(root), cache_dir=str(tmp_path / "c"))
    assert train.class_names == test.class_names == ["n001", "n002", "n003"]
    assert train.image_names[:3] == ["n00100000000.jpg", "n00100000001.jpg", "n00100000002.jpg"]
    assert test.image_names == ["n00100000003.jpg", "n00200000003.jpg", "n00300000003.jpg"]
    assert train.images.shape == (9, 32, 32, 3) and test.labels.tolist() == [0, 1, 2]
    assert tuple(train.mean) == (0, 0, 0) and tuple(train.std) == (1, 1, 1)
    with pytest.raises(DataError, match="no split 'val'"):
        load_split("mini-imagenet-generic", "val", str(root))


def test_root_is_the_mini_imagenet_folder(tmp_path, monkeypatch):
    tiny_copy(tmp_path / "mini-imagenet")
    assert resolve_root("mini-imagenet-generic", str(tmp_path)) == tmp_path / "mini-imagenet"
    monkeypatch.setenv("FEWSHOT_NSL_DATA", str(tmp_path))
    assert resolve_root("mini-imagenet-generic", None) == tmp_path / "mini-imagenet"


def test_a_class_too_small_for_the_rule_is_named(tmp_path):
    root = tiny_copy(tmp_path)
    with pytest.raises(DataError, match="class n001 has 4 images"):
        load_split("mini-imagenet-generic", "train", str(root))


REAL = Path(os.environ.get("FEWSHOT_NSL_DATA", "../shared/data")) / "mini-imagenet"


@pytest.mark.skipif(not (REAL / "images").is_dir() or not (REAL / "val.csv").is_file(),
                    reason=f"the real Mini-ImageNet images are not at {REAL}")
def test_real_split_is_80_classes_of_500_and_100():
    train = mini_generic.split_index(REAL, "train")
    test = mini_generic.split_index(REAL, "test")
    assert len(train.class_names) == 80 and train.class_names == test.class_names
    assert np.bincount(train.labels).tolist() == [500] * 80 and np.bincount(test.labels).tolist() == [100] * 80
    assert not set(train.names) & set(test.names)
    assert train.names[499] < test.names[0]  # class 0: every train name sorts before every test name
