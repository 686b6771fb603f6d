"""Every bad input gives one DataError line that names the culprit file or setting."""

from __future__ import annotations

import pickle
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from fewshot_nsl.data import load_split
from fewshot_nsl.core.errors import DataError, FewShotError


def load(root: Path, split: str = "val", dataset: str = "mini-imagenet"):
    return load_split(dataset, split, str(root), image_size=16)


def one_line_error(root: Path, split: str = "val", dataset: str = "mini-imagenet") -> str:
    with pytest.raises(DataError) as info:
        load(root, split, dataset)
    message = str(info.value)
    assert "\n" not in message and isinstance(info.value, FewShotError)
    return message


def test_corrupted_jpeg_is_named(build, tmp_path: Path) -> None:
    root = build.ravi(tmp_path, {"val": (2, 3)})
    victim = sorted((root / "images").iterdir())[4]
    victim.write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")
    assert victim.name in one_line_error(root)


def test_truncated_jpeg_is_named(build, tmp_path: Path) -> None:
    root = build.ravi(tmp_path, {"val": (2, 3)}, size=64)
    victim = sorted((root / "images").iterdir())[2]
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])
    message = one_line_error(root)
    assert victim.name in message and "truncated" in message


def test_csv_row_whose_image_is_missing(build, tmp_path: Path) -> None:
    root = build.ravi(tmp_path, {"val": (2, 3)})
    victim = sorted((root / "images").iterdir())[1]
    victim.unlink()
    message = one_line_error(root)
    assert victim.name in message and "val.csv" in message and "1 of the 6" in message


@pytest.mark.parametrize("header", ["filename,class", "file,label"])
def test_csv_without_required_column(build, tmp_path: Path, header: str) -> None:
    root = build.ravi(tmp_path, {"val": (1, 2)})
    lines = (root / "val.csv").read_text().splitlines()
    (root / "val.csv").write_text("\n".join([header] + lines[1:]))
    missing = "label" if "class" in header else "filename"
    message = one_line_error(root)
    assert "val.csv" in message and repr(missing) in message


def test_csv_listing_an_image_twice(build, tmp_path: Path) -> None:
    root = build.ravi(tmp_path, {"val": (1, 2)})
    lines = (root / "val.csv").read_text().splitlines()
    (root / "val.csv").write_text("\n".join(lines + [lines[1]]))
    assert "listed twice" in one_line_error(root)


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert "empty" in one_line_error(tmp_path / "empty")


def test_no_recognisable_layout_says_what_was_looked_for(tmp_path: Path) -> None:
    (tmp_path / "README.txt").write_text("hello")
    message = one_line_error(tmp_path)
    for looked_for in ("val.csv", "mini-imagenet-cache-validation.pkl", "val_data.hdf5"):
        assert looked_for in message


def test_csv_without_images_folder(build, tmp_path: Path) -> None:
    build.csv_only(tmp_path, "val", 1, 2)
    assert "images/" in one_line_error(tmp_path)


def test_html_saved_as_pickle(tmp_path: Path) -> None:
    (tmp_path / "mini-imagenet-cache-validation.pkl").write_text(
        "\n  <!DOCTYPE html><html><head><title>Google Drive - Virus scan warning</title></head></html>")
    message = one_line_error(tmp_path)
    assert "HTML page, not a pickle" in message and "mini-imagenet-cache-validation.pkl" in message


def test_truncated_pickle(build, tmp_path: Path) -> None:
    path = build.pickle_cache(tmp_path, "val", 2, 3)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    message = one_line_error(tmp_path)
    assert path.name in message and "truncated" in message


def test_pickle_with_wrong_content(tmp_path: Path) -> None:
    with open(tmp_path / "mini-imagenet-cache-validation.pkl", "wb") as f:
        pickle.dump({"image_data": np.zeros((2, 8, 8), np.uint8), "class_dict": {"a": [0, 1]}}, f)
    assert "(N, H, W, 3) uint8" in one_line_error(tmp_path)
    with open(tmp_path / "mini-imagenet-cache-validation.pkl", "wb") as f:
        pickle.dump({"image_data": np.zeros((2, 8, 8, 3), np.uint8), "class_dict": {"a": [0, 5]}}, f)
    assert "invalid image indices" in one_line_error(tmp_path)


class Boom:
    def __reduce__(self):
        return (sys.exit, ("pickles must not run code",))


def test_pickle_that_would_run_code_is_refused(tmp_path: Path) -> None:
    with open(tmp_path / "mini-imagenet-cache-validation.pkl", "wb") as f:
        pickle.dump({"image_data": Boom(), "class_dict": {}}, f)
    assert "refusing to load global" in one_line_error(tmp_path)


class CreatesFile:
    """Unpickles as ``open(marker, "w")``: leaves a file behind if the pickle's code ever runs."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_payload_never_runs_and_the_file_is_named(tmp_path: Path) -> None:
    marker, pkl = tmp_path / "marker", tmp_path / "mini-imagenet-cache-validation.pkl"
    pkl.write_bytes(pickle.dumps({"image_data": np.zeros((1, 8, 8, 3), np.uint8), "class_dict": {"a": [0]},
                                  "extra": CreatesFile(marker)}))
    message = one_line_error(tmp_path)
    assert str(pkl) in message and re.search(r"refusing to load global (builtins|io)\.open", message)
    assert not marker.exists()


def test_hdf5_without_h5py(build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build.hdf5(tmp_path, "val", 1, 2)
    monkeypatch.setitem(sys.modules, "h5py", None)
    message = one_line_error(tmp_path)
    assert "pip install fewshot-nsl[hdf5]" in message and "val_data.hdf5" in message


def test_truncated_hdf5(build, tmp_path: Path) -> None:
    build.hdf5(tmp_path, "val", 1, 2)
    path = tmp_path / "val_data.hdf5"
    path.write_bytes(path.read_bytes()[:300])
    assert "val_data.hdf5" in one_line_error(tmp_path)


def test_hdf5_labels_missing_a_class(build, tmp_path: Path) -> None:
    build.hdf5(tmp_path, "val", 1, 2)
    (tmp_path / "val_labels.json").write_text('["n99999999"]')
    assert "n99999999" in one_line_error(tmp_path)


def test_unknown_dataset_is_a_config_error() -> None:
    with pytest.raises(FewShotError, match="unknown dataset 'mini-imagnet'; did you mean 'mini-imagenet'"):
        load_split("mini-imagnet", "val", "/")


def test_omniglot_damaged_zip(build, tmp_path: Path) -> None:
    root = build.omniglot(tmp_path)
    zipped = root / "images_background.zip"
    zipped.write_bytes(zipped.read_bytes()[:100])
    message = one_line_error(root, "background", "omniglot")
    assert "images_background.zip" in message


def test_omniglot_bad_split_line(build, tmp_path: Path) -> None:
    root = build.omniglot(tmp_path, vinyals={"val": ["Greek/character01/rot045"]})
    assert "val.txt line 1" in one_line_error(root, "val", "omniglot")


def test_omniglot_missing_split_file(build, tmp_path: Path) -> None:
    root = build.omniglot(tmp_path)
    assert "test.txt is missing" in one_line_error(root, "test", "omniglot")


def test_omniglot_unknown_character(build, tmp_path: Path) -> None:
    root = build.omniglot(tmp_path, vinyals={"val": ["Klingon/character01/rot000"]})
    assert "Klingon/character01" in one_line_error(root, "val", "omniglot")
