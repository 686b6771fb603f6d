"""Roofline of the training step (issue 12): attainable GEMM/conv throughput, and every backbone variant's step.

In one run:

1. **Attainable throughput** of this machine in fp32 and bf16: GEMMs at the shapes of the dynamic layers' unfold
   GEMM, and the forward 3x3 convolution at the model's own shapes (channels-last, the CNN-4 layers on one
   episode). The best conv figure of a precision is its attainable throughput, the denominator of MFU.
2. **Every variant** (``cnn4/plain``, ``cnn4/static-dns``, ``cnn4/static-uns``, ``cnn4/dynamic-dns``,
   ``cnn4/dynamic-uns``, ``cnn9/plain``, ``cnn9/dynamic-dns``; each ``@84`` and ``@42``): forward + backward of a
   ProtoNet loss on one 5-way 5-shot 15-query episode (100 images; no optimiser step, as bench_layers.py), in
   fp32 and in ``auto`` precision (:func:`fewshot_nsl.runtime.precision.resolve_precision`), channels-last
   (channels-last fp32 is the reference). Steps are timed round-robin, each precision right after the other,
   median of ``--repeats``.

FLOP convention: one training step = forward multiply-adds (counted by forward hooks on every convolution:
the layers' own kernels and the similarity predictors' convs, not the similarity mixing itself, see
bench_layers.forward_macs) x 2 FLOPs per multiply-add x 3 (forward + the two backward GEMMs: grad input and grad
weight). ``mfu_auto`` = that over ``auto_train_s``, as a fraction of the attainable conv throughput of the
precision ``auto`` ran in.

    python benchmarks/bench_roofline.py --threads 2 --json          # full run
    python benchmarks/bench_roofline.py --quick --json              # smoke: 1 repeat, 20-image episodes
    python benchmarks/bench_roofline.py --extra cnn4/dynamic-dns-half-res   # + the cheaper predictor
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, machine  # noqa: E402
from bench_layers import forward_macs, protonet_loss, timed  # noqa: E402

from fewshot_nsl import backbones  # noqa: E402
from fewshot_nsl.layers import NSConv2d  # noqa: E402
from fewshot_nsl.layers.predictors import PREDICTORS  # noqa: E402
from fewshot_nsl.runtime.precision import AUTOCAST_DTYPES, autocast, resolve_precision  # noqa: E402

#: variant key -> (backbone, nsl)
VARIANTS: Dict[str, Tuple[str, str]] = {
    "cnn4/plain": ("cnn4", "none"), "cnn4/static-dns": ("cnn4", "static-dns"),
    "cnn4/static-uns": ("cnn4", "static-uns"), "cnn4/dynamic-dns": ("cnn4", "dynamic-dns"),
    "cnn4/dynamic-uns": ("cnn4", "dynamic-uns"), "cnn9/plain": ("cnn9", "none"),
    "cnn9/dynamic-dns": ("cnn9", "dynamic-dns"),
}
#: opt-in variants (``--extra``): the cheaper dynamic predictor (layers/predictors.py PREDICTORS)
EXTRA: Dict[str, Tuple[str, str, str]] = {
    "cnn4/dynamic-dns-half-res": ("cnn4", "dynamic-dns", "half-res"),
    "cnn4/dynamic-uns-half-res": ("cnn4", "dynamic-uns", "half-res"),
}
SIZES = (84, 42)
#: (C_in, C_out, size at 84 px) of the CNN-4 convolutions: the model's own conv shapes
CONV_SHAPES = [(64, 64, 42), (64, 64, 21), (64, 64, 10)]
CL = torch.channels_last


def _median_time(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up: oneDNN primitive creation
    return statistics.median(timed(fn, torch.device("cpu")) for _ in range(repeats))


def attainable(images: int, repeats: int, device: torch.device) -> Dict[str, Dict[str, float]]:
    """GFLOP/s of the best GEMM and the best forward 3x3 conv (channels-last) per precision."""
    out: Dict[str, Dict[str, float]] = {}
    gemms = [(images * 21 * 21, 576, 64), (images * 10 * 10, 576, 64), (2048, 2048, 2048)]
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        gemm_best, conv_best = 0.0, 0.0
        for m, k, n in gemms:
            a, b = torch.randn(m, k, device=device, dtype=dtype), torch.randn(k, n, device=device, dtype=dtype)
            t = _median_time(lambda: a @ b, repeats)
            gemm_best = max(gemm_best, 2 * m * k * n / t / 1e9)
        for c_in, c_out, size in CONV_SHAPES:
            x = torch.randn(images, c_in, size, size, device=device, dtype=dtype).contiguous(memory_format=CL)
            w = torch.randn(c_out, c_in, 3, 3, device=device, dtype=dtype).contiguous(memory_format=CL)
            t = _median_time(lambda: F.conv2d(x, w, padding=1), repeats)
            conv_best = max(conv_best, 2 * images * c_out * size * size * c_in * 9 / t / 1e9)
        out[name] = {"gemm": gemm_best, "conv3x3": conv_best}
    return out


def build_net(key: str, device: torch.device) -> nn.Module:
    """The variant's backbone, channels-last, in training mode; an extra variant swaps in its predictor."""
    backbone, nsl, *predictor = (*VARIANTS[key],) if key in VARIANTS else EXTRA[key]
    net = backbones.build(backbone, nsl=nsl)
    for layer in net.modules():
        if predictor and isinstance(layer, NSConv2d) and layer.dynamic:
            layer.predictor = PREDICTORS[predictor[0]](layer.in_channels, layer.similarity, layer.num_taps)
    return net.to(device, memory_format=CL).train()


def train_step(net: nn.Module, images: torch.Tensor, precision: str, way: int, shot: int) -> Callable[[], None]:
    """zero_grad, forward in ``precision``, ProtoNet loss in fp32 (the distances need it), backward."""
    def step() -> None:
        net.zero_grad(set_to_none=True)
        with autocast(precision, images.device):
            features = net(images)
        protonet_loss(features.float(), way, shot).backward()
    return step


def bench_size(keys: List[str], size: int, auto: str, args: argparse.Namespace,
               device: torch.device) -> Dict[str, Dict[str, float]]:
    """Every variant at one image size: fp32 and auto seconds (median), MACs over its backbone's plain net."""
    n = args.way * (args.shot + args.query)
    images = torch.randn(n, 3, size, size, device=device).contiguous(memory_format=CL)
    nets = {key: build_net(key, device) for key in keys}
    steps = {(key, p): train_step(net, images, p, args.way, args.shot) for key, net in nets.items()
             for p in ("fp32", auto)}
    times: Dict[Tuple[str, str], List[float]] = {k: [] for k in steps}
    for rep in range(args.warmup + args.repeats):
        for k, step in steps.items():
            t = timed(step, device)
            if rep >= args.warmup:
                times[k].append(t)
    macs = {key: sum(forward_macs(net, images).values()) for key, net in nets.items()}
    out: Dict[str, Dict[str, float]] = {}
    for key in keys:
        fp32_s, auto_s = (statistics.median(times[(key, p)]) for p in ("fp32", auto))
        plain = f"{key.split('/')[0]}/plain"
        step_flops = macs[key] * 2 * 3
        out[f"{key}@{size}"] = {
            "fp32_train_s": fp32_s, "auto_train_s": auto_s, "speedup_auto_vs_fp32": fp32_s / auto_s,
            "forward_gmacs": macs[key] / 1e9, "step_gflop": step_flops / 1e9,
            "achieved_gflops_auto": step_flops / auto_s / 1e9,
            "macs_x_plain": macs[key] / macs[plain] if plain in macs else None,
        }
    return out


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--way", type=int, default=5)
    parser.add_argument("--shot", type=int, default=5)
    parser.add_argument("--query", type=int, default=15)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--extra", nargs="*", default=[], choices=list(EXTRA), help="opt-in variants")
    parser.add_argument("--sizes", nargs="+", type=int, default=list(SIZES))
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 1 repeat after 1 warm-up round, 5-way 1-shot 3-query episodes (20 images)")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON line at the end")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.warmup, args.shot, args.query = 1, 1, 1, 3
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(0)
    auto = resolve_precision("auto", device)
    n = args.way * (args.shot + args.query)
    peak = attainable(n, max(3, args.repeats), device)  # cheap: never fewer than 3 repeats
    keys = [k for k in VARIANTS if k in args.variants or k.endswith("/plain")] + args.extra
    variants: Dict[str, Dict[str, float]] = {}
    for size in args.sizes:
        variants.update(bench_size(keys, size, auto, args, device))
    auto_peak = peak["bf16" if auto == "bf16" else "fp32"]["conv3x3"]
    for key, row in variants.items():
        row["mfu_auto"] = row["achieved_gflops_auto"] / auto_peak
        plain = variants.get(f"{key.split('/')[0]}/plain@{key.rsplit('@', 1)[1]}")
        row["auto_x_plain"] = row["auto_train_s"] / plain["auto_train_s"] if plain else None
    print(f"auto = {auto} ({AUTOCAST_DTYPES.get(auto, torch.float32)}); {n} images; median of {args.repeats}")
    for name, p in peak.items():
        print(f"attainable {name}: GEMM {p['gemm']:.0f} GFLOP/s, conv3x3 {p['conv3x3']:.0f} GFLOP/s")
    print(f"{'variant':30s} {'fp32 s':>8s} {'auto s':>8s} {'speedup':>8s} {'MFU':>6s} {'MACs x':>7s} {'auto x':>7s}")
    for key, r in variants.items():
        print(f"{key:30s} {r['fp32_train_s']:8.3f} {r['auto_train_s']:8.3f} {r['speedup_auto_vs_fp32']:8.2f} "
              f"{r['mfu_auto']:6.3f} {r['macs_x_plain'] or 0:7.2f} {r['auto_x_plain'] or 0:7.2f}")
    emit({"attainable_gflops": {k: v["conv3x3"] for k, v in peak.items()},
          "gemm_gflops": {k: v["gemm"] for k, v in peak.items()}, "auto_precision": auto,
          "flop_convention": "forward conv MACs x 2 x 3 (fwd + bwd), similarity mixing not counted",
          "images": n, "repeats": args.repeats, "variants": variants, "machine": machine()}, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
