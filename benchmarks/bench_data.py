"""Benchmark: first load of a split (decode every image into a fresh cache) against the cached load.

    python benchmarks/bench_data.py --data-root ../shared/data --split train [--json]

Prints a table; with ``--json`` the last line is one JSON object with ``speedup``, ``first_load_s``,
``cached_load_s``, ``images`` and the checks (the cached array is an ``np.memmap`` equal to the first load, and
pickling the ImageSet, as DataLoader workers do, does not copy the pixels).
"""

from __future__ import annotations

import argparse
import json
import pickle
import shutil
import sys
import tempfile
import time

import numpy as np

from fewshot_nsl.data import load_split
from fewshot_nsl.core.errors import FewShotError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mini-imagenet")
    parser.add_argument("--data-root", default=None, help="default: $FEWSHOT_NSL_DATA/<dataset>")
    parser.add_argument("--split", default="train")
    parser.add_argument("--image-size", type=int, default=None)
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args(argv)

    cache = tempfile.mkdtemp(prefix="fewshot-nsl-bench-")
    try:
        t0 = time.perf_counter()
        first = load_split(args.dataset, args.split, args.data_root, args.image_size, cache_dir=cache)
        first_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        cached = load_split(args.dataset, args.split, args.data_root, args.image_size, cache_dir=cache)
        cached_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        images = cached.images  # read every page of the memmap once
        checksum = sum(int(images[i:i + 2048].sum(dtype=np.uint64)) for i in range(0, len(images), 2048))
        read_s = time.perf_counter() - t0
        blob = pickle.dumps(cached)
        clone = pickle.loads(blob)
        result = {
            "dataset": args.dataset,
            "split": args.split,
            "images": len(cached.images),
            "shape": list(cached.images.shape),
            "first_load_s": round(first_s, 3),
            "cached_load_s": round(cached_s, 4),
            "cached_read_all_s": round(read_s, 3),
            "speedup": round(first_s / max(cached_s, 1e-9), 1),
            "array_mb": round(cached.images.nbytes / 2**20, 1),
            "pickle_kb": round(len(blob) / 2**10, 1),
            "cached_is_memmap": isinstance(cached.images, np.memmap),
            "equal_to_first": bool(np.array_equal(first.images, cached.images)),
            "pickle_is_memmap": isinstance(clone.images, np.memmap),
            "pickle_small": len(blob) < cached.images.nbytes / 100,
            "pickle_equal": bool(np.array_equal(clone.images[:64], cached.images[:64])),
            "checksum": checksum,
        }
    except FewShotError as exc:
        print(f"bench_data: error: {exc}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(cache, ignore_errors=True)

    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    if args.json:
        print(json.dumps(result))
    checks = ("cached_is_memmap", "equal_to_first", "pickle_is_memmap", "pickle_small", "pickle_equal")
    return 0 if all(result[k] for k in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
