"""Why ``train.precision=fp16`` on a CPU warns: one 3x3 convolution's forward and backward in fp32, bf16 and fp16.

The step is CNN-4's second layer at 42 px (64 -> 64 channels, 21 x 21, padding 1) on a 100-image episode, with
oneDNN on (PyTorch's default) and off (``torch.backends.mkldnn.flags(enabled=False)``: the native im2col path),
NCHW and channels-last. Each timing is the median of ``--repeats`` after one warm-up; the ratios to fp32 in the
same configuration are what the warning in ``runtime/precision.py`` quotes. fp16's backward is slow enough that
``--repeats`` stays small.

    python benchmarks/bench_fp16_cpu.py --threads 1 --repeats 3 --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Dict

import torch
from torch import nn

from fewshot_nsl.runtime.precision import AUTOCAST_DTYPES

DTYPES = {"fp32": torch.float32, **AUTOCAST_DTYPES}


def time_conv(dtype: torch.dtype, channels_last: bool, images: int, size: int, repeats: int) -> Dict[str, float]:
    """Median seconds of one forward and one backward of a 64 -> 64 3x3 conv on ``(images, 64, size, size)``."""
    torch.manual_seed(0)
    conv = nn.Conv2d(64, 64, 3, padding=1).to(dtype)
    x = torch.randn(images, 64, size, size, dtype=dtype)
    if channels_last:
        conv = conv.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    x.requires_grad_(True)
    forward, backward = [], []
    for i in range(repeats + 1):
        conv.zero_grad(set_to_none=True)
        x.grad = None
        start = time.perf_counter()
        y = conv(x)
        mid = time.perf_counter()
        y.float().sum().backward()
        end = time.perf_counter()
        if i:  # the first round warms up
            forward.append(mid - start)
            backward.append(end - mid)
    return {"forward_s": statistics.median(forward), "backward_s": statistics.median(backward)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--size", type=int, default=21)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="one JSON line instead of the table")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results: Dict[str, Dict[str, float]] = {}
    for onednn in (True, False):
        for channels_last in (False, True):
            with torch.backends.mkldnn.flags(enabled=onednn):
                for name, dtype in DTYPES.items():
                    key = f"{'onednn' if onednn else 'native'}/{'cl' if channels_last else 'nchw'}/{name}"
                    results[key] = time_conv(dtype, channels_last, args.images, args.size, args.repeats)
    for key, row in results.items():
        reference = results[key.rsplit("/", 1)[0] + "/fp32"]
        row["forward_x_fp32"] = row["forward_s"] / reference["forward_s"]
        row["backward_x_fp32"] = row["backward_s"] / reference["backward_s"]
    if args.json:
        print(json.dumps({"torch": torch.__version__, "threads": args.threads, "images": args.images,
                          "size": args.size, "results": results}))
        return
    print("| path / layout / dtype | forward s | backward s | forward x fp32 | backward x fp32 |")
    print("|---|---|---|---|---|")
    for key, row in results.items():
        print(f"| {key} | {row['forward_s']:.4f} | {row['backward_s']:.4f} | {row['forward_x_fp32']:.2f} | "
              f"{row['backward_x_fp32']:.1f} |")


if __name__ == "__main__":
    main()
