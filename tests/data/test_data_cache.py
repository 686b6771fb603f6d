"""The decoded cache: memory-mapped reloads, rebuilds on change, atomic writes, read-only data folders."""

from __future__ import annotations

import json
import os
import pickle
import stat
from pathlib import Path

import numpy as np
import pytest

from fewshot_nsl.data import cache as cache_module
from fewshot_nsl.data import load_split
from fewshot_nsl.core.errors import DataError


def load(root: Path, cache_dir: Path | None = None):
    cache = str(cache_dir) if cache_dir else None
    return load_split("mini-imagenet", "val", str(root), image_size=16, cache_dir=cache)


def cache_files(folder: Path) -> list:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_second_load_is_a_memmap_equal_to_the_first(build, tmp_path: Path, monkeypatch) -> None:
    root = build.ravi(tmp_path / "mini", {"val": (2, 3)})
    first = load(root)
    calls = []
    monkeypatch.setattr(cache_module, "_build", lambda *a, **k: calls.append(a))
    second = load(root)
    assert calls == []  # nothing decoded the second time
    assert isinstance(second.images, np.memmap) and not second.images.flags.writeable
    assert np.array_equal(first.images, second.images)
    assert first.image_names == second.image_names and first.class_names == second.class_names
    assert second.memmap_path and Path(second.memmap_path).parent == root / ".fewshot-nsl-cache"
    names = cache_files(root / ".fewshot-nsl-cache")
    assert len(names) == 2 and names[0].endswith(".json") and names[1].endswith(".npy")
    sidecar = json.loads((root / ".fewshot-nsl-cache" / names[0]).read_text())
    assert sidecar["names"] == second.image_names and sidecar["shape"] == [6, 16, 16, 3]


def test_rebuilt_when_a_file_changes(build, tmp_path: Path) -> None:
    root = build.ravi(tmp_path / "mini", {"val": (2, 3)})
    first = load(root)
    victim = root / "images" / first.image_names[0]
    other = root / "images" / first.image_names[1]
    victim.write_bytes(other.read_bytes())  # same pixels as image 1 now
    second = load(root)
    assert np.array_equal(second.images[0], first.images[1])
    assert not np.array_equal(second.images[0], first.images[0])
    assert len(cache_files(root / ".fewshot-nsl-cache")) == 2  # the stale cache was removed


def test_rebuilt_when_only_mtime_changes(build, tmp_path: Path, monkeypatch) -> None:
    root = build.ravi(tmp_path / "mini", {"val": (1, 2)})
    load(root)
    victim = next((root / "images").iterdir())
    st = victim.stat()
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    calls = []
    real = cache_module._build
    monkeypatch.setattr(cache_module, "_build", lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    load(root)
    assert calls == [1]


def test_pickling_does_not_copy_pixels(build, tmp_path: Path) -> None:
    root = build.ravi(tmp_path / "mini", {"val": (2, 20)}, size=32)
    images = load(root)
    blob = pickle.dumps(images)
    assert len(blob) < images.images.nbytes / 5
    clone = pickle.loads(blob)
    assert isinstance(clone.images, np.memmap)
    assert np.array_equal(clone.images, images.images) and clone.image_names == images.image_names


def test_crash_while_decoding_leaves_no_cache(build, tmp_path: Path, monkeypatch) -> None:
    root = build.ravi(tmp_path / "mini", {"val": (2, 3)})
    real = cache_module.fill

    def crash(out, decode, *a, **k):
        real(out[:2], decode, *a, **k)
        raise KeyboardInterrupt

    monkeypatch.setattr(cache_module, "fill", crash)
    with pytest.raises(KeyboardInterrupt):
        load(root)
    assert cache_files(root / ".fewshot-nsl-cache") == []  # no half cache, no temp files
    monkeypatch.setattr(cache_module, "fill", real)
    assert len(load(root).images) == 6


def test_bad_image_leaves_no_cache(build, tmp_path: Path) -> None:
    root = build.ravi(tmp_path / "mini", {"val": (2, 3)})
    (root / "images" / sorted(os.listdir(root / "images"))[3]).write_bytes(b"nope")
    with pytest.raises(DataError):
        load(root)
    assert cache_files(root / ".fewshot-nsl-cache") == []


def test_sidecar_without_array_is_rebuilt(build, tmp_path: Path) -> None:
    root = build.ravi(tmp_path / "mini", {"val": (1, 2)})
    first = load(root)
    Path(first.memmap_path).unlink()
    assert np.array_equal(load(root).images, first.images)


def test_read_only_data_folder_uses_the_user_cache(build, tmp_path: Path, monkeypatch) -> None:
    root = build.ravi(tmp_path / "mini", {"val": (1, 2)})
    user = tmp_path / "user-cache"
    monkeypatch.setenv("FEWSHOT_NSL_CACHE", str(user))
    mode = root.stat().st_mode
    root.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))  # honoured even when running as root
    try:
        images = load(root)
    finally:
        root.chmod(mode)
    assert not (root / ".fewshot-nsl-cache").exists()
    assert Path(images.memmap_path).parent == user


def test_explicit_cache_dir_wins(build, tmp_path: Path) -> None:
    root = build.ravi(tmp_path / "mini", {"val": (1, 2)})
    images = load(root, tmp_path / "mine")
    assert Path(images.memmap_path).parent == tmp_path / "mine"
    assert not (root / ".fewshot-nsl-cache").exists()


def test_unwritable_explicit_cache_dir_is_a_data_error(build, tmp_path: Path) -> None:
    root = build.ravi(tmp_path / "mini", {"val": (1, 2)})
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(DataError, match="cache"):
        load(root, blocker / "sub")


def test_two_roots_share_a_cache_folder(build, tmp_path: Path) -> None:
    a = build.ravi(tmp_path / "a", {"val": (1, 2)})
    b = build.ravi(tmp_path / "b", {"val": (2, 2)})
    shared = tmp_path / "shared"
    assert len(load(a, shared).images) == 2
    assert len(load(b, shared).images) == 4
    assert len(load(a, shared).images) == 2
    assert len(cache_files(shared)) == 4
