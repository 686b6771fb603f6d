"""Which CPU execution settings pay off for a CNN-4 ProtoNet step (issue 6)?

One N-way K-shot Q-query episode (default 5/5/15 = 100 images at 84x84), forward + backward with the ProtoNet
loss, and inference (embedding the same 100 images under ``no_grad``). Every option is timed right after the
reference (NCHW, all threads, support and query through the backbone as one batch) and reported as the median
speed-up ``reference / option`` of those pairs, so that load drifts hit both sides alike:

- ``channels_last``: weights and images in NHWC (what the trainer does on CPU, ``train.channels_last``);
- ``channels_last+compile``: that, with the backbone under ``torch.compile`` (inductor; its one-off compile time
  is reported separately as ``compile_s``);
- ``channels_last, 1 thread``: intra-op threads 1 instead of all cores;
- ``channels_last, support/query apart``: two backbone calls instead of one batch of support + query.

Usage:
    python benchmarks/bench_cpu.py [--repeats 5] [--no-compile] [--json]

With ``--json`` the last line is one JSON object with the keys channels_last_train_speedup,
channels_last_infer_speedup, compile_train_speedup, compile_infer_speedup (relative to channels-last without
compile; null with --no-compile), one_thread_train_speedup, joint_batch_train_speedup (one batch against two
calls, channels-last), and the raw seconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, machine  # noqa: E402
from bench_layers import paired, protonet_loss  # noqa: E402

from fewshot_nsl import backbones  # noqa: E402


def _net(channels_last: bool) -> nn.Module:
    torch.manual_seed(0)
    net = backbones.build("cnn4")
    return net.to(memory_format=torch.channels_last) if channels_last else net


def _train_step(net: nn.Module, images: torch.Tensor, way: int, shot: int, apart: bool = False) -> Callable[[], None]:
    n_support = way * shot

    def step() -> None:
        net.zero_grad(set_to_none=True)
        if apart:
            features = torch.cat([net(images[:n_support]), net(images[n_support:])])
        else:
            features = net(images)
        protonet_loss(features, way, shot).backward()
    return step


def _infer_step(net: nn.Module, images: torch.Tensor) -> Callable[[], None]:
    def step() -> None:
        with torch.no_grad():
            net(images)
    return step


def _with_threads(step: Callable[[], None], threads: int) -> Callable[[], None]:
    def wrapped() -> None:
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            step()
        finally:
            torch.set_num_threads(before)
    return wrapped


def _speedups(steps: Dict[str, Callable[[], None]], args: argparse.Namespace) -> Dict[str, Dict[str, float]]:
    """Median seconds of each step and median of (reference time / step time) over adjacent pairs, the reference
    being the ``nchw`` step (timed by bench_layers' round-robin :func:`paired`)."""
    times, ratios = paired(steps, "nchw", args, torch.device("cpu"))
    return {k: {"s": statistics.median(times[k]), "speedup": statistics.median(1.0 / r for r in ratios[k])}
            for k in steps}


def run(args: argparse.Namespace) -> Dict[str, object]:
    torch.manual_seed(0)
    n = args.way * (args.shot + args.query)
    images = torch.randn(n, 3, args.image_size, args.image_size)
    images_cl = images.contiguous(memory_format=torch.channels_last)
    threads = torch.get_num_threads()
    nchw, cl = _net(False).train(), _net(True).train()
    train = {
        "nchw": _train_step(nchw, images, args.way, args.shot),
        "channels_last": _train_step(cl, images_cl, args.way, args.shot),
        "channels_last, 1 thread": _with_threads(_train_step(cl, images_cl, args.way, args.shot), 1),
        "channels_last, support/query apart": _train_step(cl, images_cl, args.way, args.shot, apart=True),
    }
    infer = {"nchw": _infer_step(nchw, images), "channels_last": _infer_step(cl, images_cl)}
    compile_s = None
    if not args.no_compile:
        compiled = torch.compile(_net(True).train())
        start = time.perf_counter()
        _train_step(compiled, images_cl, args.way, args.shot)()  # compiles forward and backward
        compiled.eval()
        _infer_step(compiled, images_cl)()
        compile_s = time.perf_counter() - start
        compiled.train()
        train["channels_last+compile"] = _train_step(compiled, images_cl, args.way, args.shot)
    train_res = _speedups(train, args)
    for net in (nchw, cl):
        net.eval()
    if not args.no_compile:
        compiled.eval()
        infer["channels_last+compile"] = _infer_step(compiled, images_cl)
    infer_res = _speedups(infer, args)

    def relative(res: Dict[str, Dict[str, float]], a: str, b: str) -> float | None:
        return res[b]["s"] / res[a]["s"] if a in res and b in res else None

    return {
        "machine": machine(), "threads": threads, "images": n, "image_size": args.image_size,
        "repeats": args.repeats, "train": train_res, "inference": infer_res, "compile_s": compile_s,
        "channels_last_train_speedup": train_res["channels_last"]["speedup"],
        "channels_last_infer_speedup": infer_res["channels_last"]["speedup"],
        "compile_train_speedup": relative(train_res, "channels_last+compile", "channels_last"),
        "compile_infer_speedup": relative(infer_res, "channels_last+compile", "channels_last"),
        "one_thread_train_speedup": relative(train_res, "channels_last, 1 thread", "channels_last"),
        "joint_batch_train_speedup": relative(train_res, "channels_last", "channels_last, support/query apart"),
    }


def print_table(result: Dict[str, object]) -> None:
    print(f"CNN-4, {result['images']} images at {result['image_size']}px, {result['threads']} threads, "
          f"median of {result['repeats']}")
    for kind in ("train", "inference"):
        for name, r in result[kind].items():  # type: ignore[union-attr]
            print(f"  {kind:9s} {name:38s} {r['s']:7.3f} s   x{r['speedup']:.2f} vs nchw")
    if result["compile_s"] is not None:
        print(f"  torch.compile one-off cost: {result['compile_s']:.1f} s")


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--way", type=int, default=5)
    parser.add_argument("--shot", type=int, default=5)
    parser.add_argument("--query", type=int, default=15)
    parser.add_argument("--image-size", type=int, default=84)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile (needs a C++ compiler)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args)
    print_table(result)
    emit(result, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
