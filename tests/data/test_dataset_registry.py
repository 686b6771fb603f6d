"""Every registered dataset (derived from the registry: a new reader is covered without editing this file)
states a usable DatasetSpec; a reader with a root finds no split in an empty folder, one without a root loads."""

import pytest

from fewshot_nsl.data import DATASETS, load_split, split_index


@pytest.mark.parametrize("name", DATASETS.names())
def test_spec_is_complete(name, tmp_path):
    spec = DATASETS.get(name)
    assert spec.name == name
    assert isinstance(spec.default_image_size, int) and spec.default_image_size > 0
    assert spec.splits and all(isinstance(s, str) for s in spec.splits)
    assert callable(spec.load) and callable(spec.source) and callable(spec.index) and callable(spec.find_splits)
    if spec.needs_root:
        assert spec.find_splits(tmp_path) == ()


@pytest.mark.parametrize("name", [n for n in DATASETS.names() if not DATASETS.get(n).needs_root])
def test_a_dataset_without_files_loads_each_split(name, tmp_path):
    for split in DATASETS.get(name).splits:
        images = load_split(name, split, image_size=8, cache_dir=str(tmp_path))
        assert images.images.shape[1:3] == (8, 8) and len(images.labels) == len(images.images)
        assert split_index(name, split).labels.tolist() == images.labels.tolist()
