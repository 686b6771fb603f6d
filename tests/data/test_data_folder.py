"""Folder datasets: class folders ('all'), split CSVs, split sub-folders, and the error for a missing split
(class splits by ratios: test_class_split.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fewshot_nsl.data import load_split, split_index
from fewshot_nsl.core.errors import DataError


def write_images(folder: Path, classes: dict, size: int = 12) -> None:
    """PNG (lossless) images of one flat colour per class and image: pixel value = 10 * class + image."""
    for c, (name, count) in enumerate(classes.items()):
        (folder / name).mkdir(parents=True, exist_ok=True)
        for k in range(count):
            Image.fromarray(np.full((size, size, 3), 10 * c + k, np.uint8)).save(folder / name / f"{k:03d}.png")


def load(root: Path, split: str, size: int = 12):
    return load_split("folder", split, str(root), image_size=size)


def test_class_folders_form_split_all(tmp_path: Path) -> None:
    write_images(tmp_path, {"cat": 2, "ant": 3})
    s = load(tmp_path, "all")
    assert s.class_names == ["ant", "cat"] and s.image_names[0] == "ant/000.png"
    assert s.images[:, 0, 0, 0].tolist() == [10, 11, 12, 0, 1]
    assert np.allclose(s.mean, [np.mean([10, 11, 12, 0, 1])] * 3) and np.all(np.asarray(s.std) > 0)


def test_missing_split_lists_what_exists(tmp_path: Path) -> None:
    write_images(tmp_path, {"cat": 1})
    with pytest.raises(DataError, match=r"no split 'train'.*splits found: all\); split its classes with "
                                        r"--set data.class_split=0\.64,0\.16,0\.20$"):
        load(tmp_path, "train")


def test_split_csv_relative_to_root_or_to_label_folder(tmp_path: Path) -> None:
    write_images(tmp_path, {"cat": 3, "dog": 3})
    (tmp_path / "train.csv").write_text("filename,label\ncat/000.png,cat\n001.png,cat\ndog/002.png,dog\n")
    s = load(tmp_path, "train")
    assert s.image_names == ["cat/000.png", "cat/001.png", "dog/002.png"]
    assert s.images[:, 0, 0, 0].tolist() == [0, 1, 12]
    assert split_index("folder", "train", str(tmp_path)).names == s.image_names


def test_split_csv_row_whose_image_is_missing(tmp_path: Path) -> None:
    write_images(tmp_path, {"cat": 1})
    (tmp_path / "val.csv").write_text("filename,label\ncat/000.png,cat\ncat/zzz.png,cat\n")
    with pytest.raises(DataError, match="zzz.png"):
        load(tmp_path, "val")


def test_split_sub_folders(tmp_path: Path) -> None:
    write_images(tmp_path / "train", {"a": 2, "b": 2})
    write_images(tmp_path / "val", {"c": 2})
    assert load(tmp_path, "train").class_names == ["a", "b"]
    assert load(tmp_path, "val").image_names == ["val/c/000.png", "val/c/001.png"]
    with pytest.raises(DataError, match=r"splits found: train, val\)"):
        load(tmp_path, "all")


def test_other_sizes_are_resized_and_grey_becomes_rgb(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    Image.fromarray(np.full((30, 20), 77, np.uint8)).save(tmp_path / "x" / "g.png")
    s = load(tmp_path, "all", size=8)
    assert s.images.shape == (1, 8, 8, 3) and np.all(s.images == 77)


def test_non_images_and_hidden_files_are_ignored(tmp_path: Path) -> None:
    write_images(tmp_path, {"cat": 1})
    (tmp_path / "cat" / "notes.txt").write_text("x")
    (tmp_path / "cat" / ".hidden.png").write_bytes(b"x")
    assert load(tmp_path, "all").image_names == ["cat/000.png"]


def test_empty_root(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="empty"):
        load(tmp_path, "all")
