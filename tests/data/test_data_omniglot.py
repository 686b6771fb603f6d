"""Omniglot from tiny zips / folders: Lake sets, Vinyals rotations, inversion, names."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fewshot_nsl.data import DATASETS, load_split, split_index
from fewshot_nsl.core.errors import DataError


def load(root: Path, split: str, size: int = 10):
    return load_split("omniglot", split, str(root), image_size=size)


def reference(build, set_name: str, char: str, file: str, size: int = 10) -> np.ndarray:
    """The expected image: LANCZOS resize of the glyph to ``size``, inverted (ink bright)."""
    import zlib

    png = build.glyph(zlib.crc32(f"{set_name}/{char}/{file}".encode()))
    grey = Image.open(io.BytesIO(png)).convert("L").resize((size, size), Image.LANCZOS)
    return 255 - np.asarray(grey)


def test_lake_background_set(build, tmp_path: Path) -> None:
    root = build.omniglot(tmp_path)
    s = load(root, "background")
    assert s.images.shape == (12, 10, 10, 1)
    assert s.class_names == sorted(build.omniglot_chars("background"))
    assert s.image_names[0] == "Greek/character01/0002_01.png"
    assert np.array_equal(s.images[0, :, :, 0], reference(build, "background", "Greek/character01", "0002_01.png"))


def test_ink_is_bright_on_black(build, tmp_path: Path) -> None:
    s = load(build.omniglot(tmp_path), "evaluation", size=20)
    assert np.median(s.images) == 0 and s.images.max() == 255  # background 0, strokes 255


def test_vinyals_rotations(build, tmp_path: Path) -> None:
    root = build.omniglot(tmp_path)
    s = load(root, "train")
    assert s.class_names[:4] == [f"Latin/character01/rot{d:03d}" for d in (0, 90, 180, 270)]
    assert s.class_names[4] == "Tengwar/character02/rot000"  # from the evaluation zip
    assert s.image_names[3] == "Latin/character01/rot090/0000_01.png"
    by_class = s.indices_by_class()
    upright = s.images[by_class[0], :, :, 0]
    for k in (1, 2, 3):  # rotXXX = counter-clockwise rotation by XXX degrees
        assert np.array_equal(s.images[by_class[k], :, :, 0], np.rot90(upright, k=k, axes=(1, 2)))
    assert np.array_equal(upright[0], reference(build, "background", "Latin/character01", "0000_01.png"))
    pil_rotated = np.asarray(Image.fromarray(upright[0]).rotate(90))
    assert np.array_equal(s.images[by_class[1][0], :, :, 0], pil_rotated)


def test_extracted_folders_equal_zips(build, tmp_path: Path) -> None:
    zipped = load(build.omniglot(tmp_path / "zip"), "train")
    folders = load(build.omniglot(tmp_path / "dir", as_zip=False), "train")
    assert np.array_equal(zipped.images, folders.images) and zipped.image_names == folders.image_names


def test_split_index_matches_loaded(build, tmp_path: Path) -> None:
    root = build.omniglot(tmp_path)
    index = split_index("omniglot", "val", str(root))
    s = load(root, "val")
    assert index.names == s.image_names and np.array_equal(index.labels, s.labels)


def test_default_size_and_find_splits(build, tmp_path: Path) -> None:
    root = build.omniglot(tmp_path)
    assert load_split("omniglot", "val", str(root)).images.shape[1:] == (28, 28, 1)
    assert DATASETS.get("omniglot").find_splits(root) == ("train", "val", "background", "evaluation")


def test_missing_set_is_named(build, tmp_path: Path) -> None:
    root = build.omniglot(tmp_path)
    (root / "images_evaluation.zip").unlink()
    with pytest.raises(DataError, match="images_evaluation"):
        load(root, "evaluation")
    with pytest.raises(DataError, match="Tengwar/character02 is in none of the sets found.*images_background"):
        load(root, "train")  # a Vinyals class from the missing set
    (root / "splits" / "vinyals" / "train.txt").write_text("Latin/character02/rot180\n")
    assert load(root, "train").class_names == ["Latin/character02/rot180"]  # the other set is not needed
