"""The decoded-image cache: one split decoded once into a raw ``.npy``, memory-mapped on every later load.

Location (first that applies): the ``cache_dir`` argument; ``<data folder>/.fewshot-nsl-cache/`` when the data
folder is writable (its permission bits are honoured even for root); ``$FEWSHOT_NSL_CACHE``;
``$XDG_CACHE_HOME/fewshot-nsl`` or ``~/.cache/fewshot-nsl``.

Key: a hash of (format version, dataset, split, image size, channels, the sorted (file name, size, mtime_ns) of
every file the split is read from). A changed, added or removed file gives a new key and the split is decoded
again; the stale cache of the same data folder is removed. The array and its JSON sidecar (names, labels,
classes, mean/std) are written to temporary files and renamed into place, the sidecar last, so a crash never
leaves a cache that loads.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..core.atomic import atomic_write_text, replacing
from ..core.errors import DataError
from .base import ImageSet
from .decode import fill
from .plan import SplitPlan, SplitSource

log = logging.getLogger(__name__)

CACHE_ENV = "FEWSHOT_NSL_CACHE"
BESIDE_DATA = ".fewshot-nsl-cache"
FORMAT_VERSION = 1


def cache_key(source: SplitSource) -> str:
    """Hex digest identifying the decoded form of ``source`` (changes when any of its files changes)."""
    parts = [FORMAT_VERSION, source.dataset, source.split, source.image_size, source.channels,
             sorted(source.fingerprint())]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def is_writable_dir(path: Path) -> bool:
    """True when ``path`` is a folder we may write in; honours its permission bits even when running as root."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and bool(st.st_mode & 0o222) and os.access(path, os.W_OK | os.X_OK)


def cache_candidates(data_dir: Path | None, cache_dir: Path | None) -> list[Path]:
    """Folders to keep the cache in, best first (see the module docstring)."""
    if cache_dir is not None:
        return [Path(cache_dir).expanduser()]
    out: list[Path] = []
    if data_dir is not None and is_writable_dir(data_dir):
        beside = data_dir / BESIDE_DATA
        if not beside.exists() or is_writable_dir(beside):
            out.append(beside)
    env = os.environ.get(CACHE_ENV)
    if env:
        out.append(Path(env).expanduser())
    xdg = os.environ.get("XDG_CACHE_HOME")
    out.append((Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "fewshot-nsl")
    return out


def _prefix(source: SplitSource) -> str:
    where = str(source.data_dir.resolve()) if source.data_dir is not None else "-"
    root_hash = hashlib.sha256(where.encode()).hexdigest()[:8]
    return f"{source.dataset}-{source.split}-{source.image_size}px-{root_hash}-"


def _stats(images: np.ndarray, chunk: int = 1024) -> tuple[list[float], list[float]]:
    """Per-channel mean and std (0-255) of (N, H, W, C) uint8 ``images``, accumulated in float64 chunks."""
    c = images.shape[-1]
    total, total_sq, count = np.zeros(c), np.zeros(c), 0
    for start in range(0, len(images), chunk):
        block = np.asarray(images[start:start + chunk], dtype=np.float64).reshape(-1, c)
        total += block.sum(0)
        total_sq += (block * block).sum(0)
        count += len(block)
    mean = total / max(count, 1)
    std = np.sqrt(np.maximum(total_sq / max(count, 1) - mean * mean, 1e-12))
    return mean.round(4).tolist(), std.round(4).tolist()


def _image_set(source: SplitSource, images: np.ndarray, meta: dict, path: Path | None) -> ImageSet:
    return ImageSet(
        images=images,
        labels=np.asarray(meta["labels"], dtype=np.int64),
        class_names=list(meta["class_names"]),
        image_names=list(meta["names"]),
        dataset=source.dataset,
        split=source.split,
        mean=tuple(meta["mean"]),
        std=tuple(meta["std"]),
        memmap_path=str(path) if path is not None else None,
    )


def _meta(source: SplitSource, plan: SplitPlan, images: np.ndarray, key: str) -> dict:
    mean: Sequence[float] | None = source.mean
    std: Sequence[float] | None = source.std
    if mean is None or std is None:
        mean, std = _stats(images)
    return {
        "version": FORMAT_VERSION,
        "key": key,
        "dataset": source.dataset,
        "split": source.split,
        "shape": list(images.shape),
        "mean": [float(m) for m in mean],
        "std": [float(s) for s in std],
        "class_names": list(plan.index.class_names),
        "labels": [int(v) for v in plan.index.labels],
        "names": list(plan.index.names),
    }


def materialise(source: SplitSource, workers: int | None = None) -> ImageSet:
    """Decode ``source`` into memory (no cache)."""
    plan = source.open()
    n, s = len(plan.index.names), source.image_size
    images = np.empty((n, s, s, source.channels), dtype=np.uint8)
    fill(images, plan.decode, workers, desc=f"{source.dataset}/{source.split}")
    return _image_set(source, images, _meta(source, plan, images, ""), None)


def _try_load(npy: Path, sidecar: Path, key: str) -> tuple[np.ndarray, dict] | None:
    if not (npy.is_file() and sidecar.is_file()):
        return None
    try:
        meta = json.loads(sidecar.read_text())
        images = np.load(npy, mmap_mode="r")
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable cache %s (%s)", npy, exc)
        return None
    if meta.get("version") != FORMAT_VERSION or meta.get("key") != key or list(images.shape) != meta.get("shape"):
        return None
    return images, meta


def _remove_quietly(*paths: Path) -> None:
    for p in paths:
        try:
            p.unlink()
        except OSError:
            pass


def _build(source: SplitSource, folder: Path, npy: Path, sidecar: Path, key: str, workers: int | None) -> None:
    """Decode ``source`` into ``npy`` + ``sidecar`` in ``folder``, each through a temporary file and a rename.

    The array is renamed into place first and the sidecar last: a crash in between leaves an array without a
    sidecar, which :func:`_try_load` ignores, so a half-written cache never loads.
    """
    plan = source.open()
    n, s = len(plan.index.names), source.image_size
    log.info("decoding %d images of %s/%s into %s", n, source.dataset, source.split, npy)
    try:
        with replacing(npy) as tmp_npy:  # a big array is filled in place, never held as bytes
            images = np.lib.format.open_memmap(tmp_npy, mode="w+", dtype=np.uint8,
                                               shape=(n, s, s, source.channels))
            fill(images, plan.decode, workers, desc=f"{source.dataset}/{source.split}")
            images.flush()
            meta = _meta(source, plan, images, key)
            del images  # unmap before the rename
        atomic_write_text(sidecar, json.dumps(meta))
    except OSError as exc:
        raise DataError(f"cannot write the decoded cache {npy} ({exc}); set cache_dir or ${CACHE_ENV}") from None


def _remove_stale(folder: Path, prefix: str, keep: str) -> None:
    for old in folder.glob(f"{prefix}*"):
        if not old.name.startswith(keep):
            log.info("removing stale cache %s", old)
            _remove_quietly(old)


def load_cached(
    source: SplitSource, cache_dir: Path | None = None, workers: int | None = None
) -> ImageSet:
    """The :class:`ImageSet` of ``source``, memory-mapped from the decoded cache (built on first use).

    Sources that are not cacheable (generated data) are decoded into memory every time.

    Raises:
        DataError: a file of the split is missing or unreadable, or no cache folder can be written.
    """
    if not source.cacheable:
        return materialise(source, workers)
    key = cache_key(source)
    prefix = _prefix(source)
    stem = f"{prefix}{key[:16]}"
    errors = []
    for folder in cache_candidates(source.data_dir, cache_dir):
        npy, sidecar = folder / f"{stem}.npy", folder / f"{stem}.json"
        found = _try_load(npy, sidecar, key)
        if found is not None:
            log.info("loaded %s/%s from cache %s", source.dataset, source.split, npy)
            return _image_set(source, found[0], found[1], npy)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            errors.append(f"{folder}: {exc}")
            continue
        if not is_writable_dir(folder):
            errors.append(f"{folder}: not writable")
            continue
        _build(source, folder, npy, sidecar, key, workers)
        _remove_stale(folder, prefix, stem)
        found = _try_load(npy, sidecar, key)
        if found is None:
            raise DataError(f"the decoded cache {npy} could not be read back")
        return _image_set(source, found[0], found[1], npy)
    raise DataError(f"no writable cache folder for {source.dataset}/{source.split}: {'; '.join(errors)}")


#: ``source(root, split, image_size) -> SplitSource``: how a reader describes one split
SourceFn = Callable[[Path | None, str, int], SplitSource]
#: ``load(root, split, image_size, cache_dir) -> ImageSet``: what a :class:`~fewshot_nsl.data.DatasetSpec` calls
LoadFn = Callable[[Path | None, str, int, Path | None], ImageSet]


def cached_loader(source: SourceFn, workers: int | None = None) -> LoadFn:
    """The ``load`` of a reader: build the split's :class:`SplitSource` and read it through :func:`load_cached`.

    Every reader loads this one way; ``workers`` fixes the decoding threads (1 for data generated in code).
    """

    def load(root: Path | None, split: str, image_size: int, cache_dir: Path | None, **options: Any) -> ImageSet:
        """One split as an :class:`ImageSet` (through the decoded cache when the source is cacheable); ``options``
        go to ``source`` (the folder reader's ``class_split``)."""
        return load_cached(source(root, split, image_size, **options), cache_dir, workers)

    return load
