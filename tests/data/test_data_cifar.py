"""The CIFAR-10/100 readers on small files in the published pickle format, and every bad input of that format."""

from __future__ import annotations

import pickle
import pickletools

import numpy as np
import pytest
from cifar_files import batch, image, py2_dumps, write_cifar10, write_cifar100

from fewshot_nsl.core.errors import DataError
from fewshot_nsl.data import load_split


def load(dataset, split, root, tmp_path):
    return load_split(dataset, split, str(root), cache_dir=str(tmp_path / "cache"))


def test_the_writer_emits_the_python2_format():
    ops = {op.name for op, _, _ in pickletools.genops(py2_dumps(batch([1, 2], 0, "labels")))}
    globals_ = [arg for op, arg, _ in pickletools.genops(py2_dumps(batch([1], 0, "labels"))) if op.name == "GLOBAL"]
    assert "PROTO" in ops and not ops & {"BINUNICODE", "SHORT_BINUNICODE", "BINBYTES", "SHORT_BINBYTES"}
    assert set(globals_) == {"numpy.core.multiarray _reconstruct", "numpy ndarray", "numpy dtype"}


@pytest.mark.parametrize("given", ["parent", "folder"])
def test_cifar10_train_and_test(tmp_path, given):
    folder = write_cifar10(tmp_path / "data")
    root = folder if given == "folder" else folder.parent
    train = load("cifar10", "train", root, tmp_path)
    assert train.images.shape == (30, 32, 32, 3) and train.num_classes == 10
    assert train.class_names[:3] == ["airplane", "automobile", "bird"]
    assert train.labels.tolist()[:6] == [(1 + k) % 10 for k in range(6)]
    assert train.image_names[0] == "data_batch_1/00000" and train.image_names[-1] == "data_batch_5/00005"
    np.testing.assert_array_equal(train.images[7], image(train.labels[7], 201))  # channel-major rows -> HWC
    assert tuple(train.mean) == (0, 0, 0) and tuple(train.std) == (1, 1, 1)  # raw pixels (NSL_SPEC §6)
    test = load("cifar10", "test", root, tmp_path)
    assert len(test.labels) == 6 and test.image_names[0] == "test_batch/00000"


def test_cifar100_uses_the_fine_labels(tmp_path):
    folder = write_cifar100(tmp_path)
    train = load("cifar100", "train", folder.parent, tmp_path)
    assert train.num_classes == 100 and train.labels.tolist() == [(7 * k) % 100 for k in range(8)]
    assert train.class_names[99] == "class99"
    test = load("cifar100", "test", folder, tmp_path)
    np.testing.assert_array_equal(test.images[1], image(57, 51))


def test_unknown_split_and_missing_folder(tmp_path):
    write_cifar10(tmp_path)
    with pytest.raises(DataError, match="no split 'val'"):
        load("cifar10", "val", tmp_path, tmp_path)
    with pytest.raises(DataError, match="no cifar100 files in"):
        load("cifar100", "train", tmp_path, tmp_path)


def _corrupt(path, kind):
    good = path.read_bytes()
    if kind == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif kind == "html":
        path.write_bytes(b"<!DOCTYPE html><html><body>Quota exceeded</body></html>")
    elif kind == "wrong keys":
        path.write_bytes(py2_dumps({b"pixels": np.zeros((1, 3072), np.uint8), b"labels": [0]}))
    elif kind == "python3 pickle":
        path.write_bytes(pickle.dumps(batch([1], 0, "labels"), protocol=2))  # names _codecs.encode
    elif kind == "not a dict":
        path.write_bytes(py2_dumps([1, 2, 3]))
    elif kind == "bad shape":
        path.write_bytes(py2_dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}))
    elif kind == "label out of range":
        path.write_bytes(py2_dumps({b"data": np.zeros((1, 3072), np.uint8), b"labels": [10]}))
    elif kind == "count mismatch":
        path.write_bytes(py2_dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1]}))
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "missing":
        path.unlink()


KINDS = ["truncated", "html", "wrong keys", "python3 pickle", "not a dict", "bad shape", "label out of range",
         "count mismatch", "empty", "missing"]


@pytest.mark.parametrize("kind", KINDS)
def test_bad_batch_file_is_one_line_naming_it(tmp_path, kind):
    folder = write_cifar10(tmp_path)
    _corrupt(folder / "data_batch_3", kind)
    with pytest.raises(DataError) as info:
        load("cifar10", "train", folder, tmp_path)
    message = str(info.value)
    assert "\n" not in message and "data_batch_3" in message, message


@pytest.mark.parametrize("kind", ["truncated", "html", "wrong keys", "not a dict"])
def test_bad_meta_file_is_one_line_naming_it(tmp_path, kind):
    folder = write_cifar100(tmp_path)
    _corrupt(folder / "meta", kind)
    with pytest.raises(DataError) as info:
        load("cifar100", "test", folder, tmp_path)
    assert "\n" not in str(info.value) and "meta" in str(info.value)


def test_index_and_splits_without_decoding(tmp_path):
    from fewshot_nsl.data import DATASETS, split_index

    folder = write_cifar10(tmp_path)
    assert DATASETS.get("cifar10").find_splits(tmp_path) == ("train", "test")
    assert split_index("cifar10", "test", str(folder)).names[:2] == ["test_batch/00000", "test_batch/00001"]
