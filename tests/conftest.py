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
def omniglot_root(shared_data: pathlib.Path) -> pathlib.Path:
    root = shared_data / "omniglot"
    if not root.is_dir():
        pytest.skip(f"Omniglot not found under {root}")
    return root
