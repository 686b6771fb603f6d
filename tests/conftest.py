"""Shared fixtures. Real data comes from $FEWSHOT_NSL_DATA (default: ../shared/data beside the repo)."""

import os
import pathlib

import pytest
import torch

REPO = pathlib.Path(__file__).resolve().parents[1]


def shared_data_root() -> pathlib.Path:
    return pathlib.Path(os.environ.get("FEWSHOT_NSL_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session", autouse=True)
def _few_threads():
    """Two cores are all CI has: keep intra-op threads modest so tests do not fight."""
    torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture(scope="session")
def shared_data() -> pathlib.Path:
    root = shared_data_root()
    if not (root / "mini-imagenet").is_dir() and not (root / "omniglot").is_dir():
        pytest.skip(f"real data not found at {root} (set FEWSHOT_NSL_DATA to a folder holding mini-imagenet/ "
                    "and omniglot/)")
    return root


@pytest.fixture(scope="session")
def mini_imagenet_root(shared_data: pathlib.Path) -> pathlib.Path:
    root = shared_data / "mini-imagenet"
    if not (root / "images").is_dir():
        pytest.skip(f"Mini-ImageNet images not found under {root}")
    return root


@pytest.fixture(scope="session")
def real_data_root():
    """``real_data_root(dataset)``: the dataset's real folder under the shared data, else the copy shipped in the
    package (Omniglot: the same images), else a skip."""
    from fewshot_nsl.data.roots import PACKAGED

    def find(dataset: str) -> pathlib.Path:
        root = shared_data_root() / dataset
        if root.is_dir():
            return root
        if (PACKAGED / dataset).is_dir():
            return PACKAGED / dataset
        pytest.skip(f"{root} not found (and nothing packaged for {dataset})")

    return find


@pytest.fixture(scope="session")
def omniglot_root(real_data_root) -> pathlib.Path:
    """The real Omniglot when present, else the packaged copy: these tests run on a fresh machine too."""
    return real_data_root("omniglot")
