"""The Omniglot copy shipped in the package: found with no data root, complete, identical to the real data."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from fewshot_nsl.core.errors import DataError
from fewshot_nsl.data import DATASETS, load_split, split_index
from fewshot_nsl.data.decode import fill
from fewshot_nsl.data.omniglot import source
from fewshot_nsl.data.omniglot_packaged import ROOT, PackagedSet, is_packaged
from fewshot_nsl.data.roots import resolve_root

#: (classes, images) of every split as the reader reports them on the real data (rotations are classes)
COUNTS = {"train": (4112, 82240), "val": (688, 13760), "test": (1692, 33840), "trainval": (4800, 96000),
          "background": (964, 19280), "evaluation": (659, 13180)}


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FEWSHOT_NSL_DATA", raising=False)


def test_no_root_means_the_packaged_copy(no_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_root("omniglot", None) == ROOT and is_packaged(ROOT)
    monkeypatch.setenv("FEWSHOT_NSL_DATA", str(tmp_path))  # a data folder without omniglot/
    assert resolve_root("omniglot", None) == ROOT
    with pytest.raises(DataError, match="holds no mini-imagenet/"):
        resolve_root("mini-imagenet", None)  # nothing is packaged for it
    (tmp_path / "omniglot").mkdir()
    assert resolve_root("omniglot", None) == tmp_path / "omniglot"  # the user's own copy wins


@pytest.mark.parametrize("split", sorted(COUNTS))
def test_every_split_is_complete(no_env, split: str) -> None:
    index = split_index("omniglot", split)
    assert (len(index.class_names), len(index.names)) == COUNTS[split]
    assert np.bincount(index.labels).tolist() == [20] * COUNTS[split][0]
    assert DATASETS.get("omniglot").find_splits(ROOT) == ("train", "val", "test", "trainval", "background",
                                                           "evaluation")


def test_loads_with_no_data_root(no_env, tmp_path: Path) -> None:
    s = load_split("omniglot", "val")
    assert s.images.shape == (688 * 20, 28, 28, 1) and s.num_classes == 688
    assert s.class_names[:2] == ["Hebrew/character01/rot000", "Hebrew/character01/rot090"]
    assert s.image_names[0] == "Hebrew/character01/rot000/0466_01.png"
    assert np.median(s.images) == 0 and s.images.max() == 255  # ink bright on black, as from the zips
    assert s.memmap_path is not None and Path(s.memmap_path).is_relative_to(tmp_path)  # the user cache
    assert not any(p.name.startswith(".") for p in ROOT.iterdir())  # nothing written into the package


def test_other_image_sizes_are_decoded_from_the_bits(no_env) -> None:
    s = load_split("omniglot", "evaluation", image_size=14)
    assert s.images.shape == (13180, 14, 14, 1) and s.images.max() == 255


def _packed_root(tmp_path: Path, payload: bytes) -> Path:
    root = tmp_path / "packed"
    (root / "splits").mkdir(parents=True)
    (root / "images_background.npz").write_bytes(payload)
    return root


class _Touch:
    """A pickle payload that would create a file when unpickled."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


def test_loading_never_unpickles(tmp_path: Path) -> None:
    marker = tmp_path / "payload-ran"
    npz = tmp_path / "evil.npz"
    np.savez(npz, names=np.array([_Touch(marker)], dtype=object), ink=np.zeros((1, 105, 14), np.uint8))
    pickle.dumps(_Touch(marker))  # the payload is a real pickle
    root = _packed_root(tmp_path, npz.read_bytes())
    with pytest.raises(DataError, match=r"images_background\.npz is not a packed Omniglot set") as info:
        PackagedSet(root, "background")
    assert "\n" not in str(info.value) and not marker.exists()


def test_damaged_file_is_named(tmp_path: Path) -> None:
    root = _packed_root(tmp_path, (ROOT / "images_background.npz").read_bytes()[:5000])
    with pytest.raises(DataError, match=r"packed/images_background\.npz is not a packed Omniglot set"):
        load_split("omniglot", "background", str(root))
    with pytest.raises(DataError, match=r"evaluation set not found: .*images_evaluation\.npz does not exist"):
        load_split("omniglot", "evaluation", str(root))


def test_real_files_win_over_packed_ones(build, tmp_path: Path) -> None:
    root = build.omniglot(tmp_path / "real")
    shutil.copyfile(ROOT / "images_background.npz", root / "images_background.npz")
    assert not is_packaged(root)
    assert load_split("omniglot", "background", str(root), image_size=10).images.shape == (12, 10, 10, 1)


def _decode_all(root: Path, set_name: str, size: int) -> tuple[list[str], np.ndarray]:
    plan = source(root, set_name, size).open()
    images = np.empty((len(plan.index.names), size, size, 1), np.uint8)
    fill(images, plan.decode)
    return plan.index.names, images


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize("set_name", ["background", "evaluation"])
def test_identical_to_the_real_data(omniglot_root: Path, set_name: str) -> None:
    if is_packaged(omniglot_root):
        pytest.skip("the real Omniglot is not present (only the packaged copy)")
    real_names, real = _decode_all(omniglot_root, set_name, 28)
    names, packed = _decode_all(ROOT, set_name, 28)
    assert names == real_names and packed.dtype == real.dtype == np.uint8
    assert np.array_equal(packed, real)  # every image, the pixels a model sees
    real_plan, plan = source(omniglot_root, set_name, 84).open(), source(ROOT, set_name, 84).open()
    for i in np.random.default_rng(0).choice(len(names), 200, replace=False):
        assert np.array_equal(plan.decode(int(i)), real_plan.decode(int(i)))  # and at other sizes
    for txt in (omniglot_root / "splits" / "vinyals").glob("*.txt"):
        assert (ROOT / "splits" / "vinyals" / txt.name).read_bytes() == txt.read_bytes()
