"""Decoding image files to uint8 arrays (PIL), and filling a whole split with a small thread pool."""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from tqdm import tqdm

from ..core.errors import DataError

log = logging.getLogger(__name__)

#: environment variable: number of decoding threads (default: the number of CPU cores, at most 8)
WORKERS_ENV = "FEWSHOT_NSL_DECODE_WORKERS"

_MODES = {3: "RGB", 1: "L"}


def to_array(image: Image.Image, size: int, channels: int, resample: int = Image.BILINEAR) -> np.ndarray:
    """(size, size, channels) uint8 array of a PIL image, converted to RGB/grey and resized when needed."""
    image = image.convert(_MODES[channels])
    if image.size != (size, size):
        image = image.resize((size, size), resample)
    array = np.asarray(image, dtype=np.uint8)
    return array.reshape(size, size, channels)


def decode_image(
    source: Path | bytes,
    size: int,
    channels: int = 3,
    name: str | None = None,
    resample: int = Image.BILINEAR,
) -> np.ndarray:
    """Decode one image file (a path or its bytes) to a (size, size, channels) uint8 array.

    Raises:
        DataError: the file is missing, truncated or not an image; the message names ``name`` (or the path).
    """
    label = name or str(source)
    try:
        stream = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
        with Image.open(stream) as image:
            image.load()
            return to_array(image, size, channels, resample)
    except FileNotFoundError:
        raise DataError(f"image {label} is missing") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DataError(f"image {label} is unreadable or truncated ({exc})") from None


def resize_array(image: np.ndarray, size: int, resample: int = Image.BILINEAR) -> np.ndarray:
    """(H, W, C) uint8 -> (size, size, C) uint8, resized with PIL when H or W differs from ``size``."""
    h, w, c = image.shape
    if (h, w) == (size, size):
        return np.ascontiguousarray(image, dtype=np.uint8)
    pil = Image.fromarray(image[..., 0] if c == 1 else image)
    return np.asarray(pil.resize((size, size), resample), dtype=np.uint8).reshape(size, size, c)


def default_workers() -> int:
    """Decoding threads: ``$FEWSHOT_NSL_DECODE_WORKERS`` or the number of cores (at most 8)."""
    env = os.environ.get(WORKERS_ENV)
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(8, os.cpu_count() or 1))


def fill(
    out: np.ndarray,
    decode: Callable[[int], np.ndarray],
    workers: int | None = None,
    desc: str = "decoding",
    chunk: int = 256,
) -> None:
    """``out[i] = decode(i)`` for every i, with a thread pool and a tqdm bar (PIL releases the GIL).

    Args:
        out: (N, H, W, C) array (a writable memmap or an in-memory array).
        decode: ``decode(i)`` -> (H, W, C) uint8.
        workers: number of threads (default :func:`default_workers`).
    """
    n = len(out)
    workers = workers or default_workers()
    starts = range(0, n, chunk)

    def run(start: int) -> int:
        stop = min(n, start + chunk)
        for i in range(start, stop):
            out[i] = decode(i)
        return stop - start

    with tqdm(total=n, desc=desc, unit="img", disable=None, leave=False) as bar:
        if workers <= 1 or n <= chunk:
            for start in starts:
                bar.update(run(start))
        else:
            pool = ThreadPoolExecutor(max_workers=workers)
            try:
                for done in pool.map(run, starts):
                    bar.update(done)
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
