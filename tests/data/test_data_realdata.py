"""Real data (skipped when absent): Mini-ImageNet val and Omniglot Vinyals val through the decoded cache."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from fewshot_nsl.data import load_split, split_index

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def test_mini_imagenet_val(mini_imagenet_root, tmp_path) -> None:
    first = load_split("mini-imagenet", "val", str(mini_imagenet_root), cache_dir=str(tmp_path))
    assert first.images.shape == (9600, 84, 84, 3) and first.num_classes == 16
    assert np.bincount(first.labels).tolist() == [600] * 16
    assert first.image_names[0] == "n0185567200000003.jpg" and first.class_names[0] == "n01855672"
    again = load_split("mini-imagenet", "val", str(mini_imagenet_root), cache_dir=str(tmp_path))
    assert isinstance(again.images, np.memmap)
    sample = np.random.default_rng(0).choice(9600, 200, replace=False)
    assert np.array_equal(first.images[sample], again.images[sample])
    assert len(pickle.dumps(again)) < 2**20
    assert 80 < float(np.asarray(again.images[sample]).mean()) < 140


def test_mini_imagenet_test_names_without_images(mini_imagenet_root) -> None:
    index = split_index("mini-imagenet", "test", str(mini_imagenet_root))
    assert len(index.names) == 12000 and len(index.class_names) == 20


def test_omniglot_vinyals_val(omniglot_root, tmp_path) -> None:
    s = load_split("omniglot", "val", str(omniglot_root), cache_dir=str(tmp_path))
    assert s.images.shape == (688 * 20, 28, 28, 1) and s.num_classes == 688
    assert s.class_names[:2] == ["Hebrew/character01/rot000", "Hebrew/character01/rot090"]
    assert s.image_names[0] == "Hebrew/character01/rot000/0466_01.png"
    upright, turned = s.indices_by_class()[0], s.indices_by_class()[1]
    assert np.array_equal(s.images[turned], np.rot90(s.images[upright], k=1, axes=(1, 2)))
    assert abs(float(np.asarray(s.images).mean()) - s.mean[0]) < 5  # ink bright on black, like the constants
