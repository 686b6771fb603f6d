"""Does ``torch.compile`` beat the hand-chunked dynamic DNS route? (issue 12, item 4)

Times forward + backward of one dynamic DNS convolution (given M; the predictor excluded) at CNN-4's shapes, three
ways, in one run: the package's chunked autograd Function (``layers/unfold_route.py``, what training uses), the
same arithmetic as plain unchunked tensor ops (pad, unfold, broadcast multiply, one GEMM) run eagerly, and that
function through ``torch.compile`` (inductor; its first call, the compilation, is reported apart). Also prints
each variant's largest relative deviation from the chunked route (outputs and the three gradients).

    OMP_NUM_THREADS=1 python benchmarks/bench_compile_dynamic.py --threads 1 --json
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, machine  # noqa: E402

from fewshot_nsl.layers.unfold_route import ns_conv_unfold_dynamic  # noqa: E402

#: (in channels, out channels, spatial size) of CNN-4's 64->64 layers on a 42-px episode (after the first pool)
SHAPES: List[Tuple[int, int, int]] = [(64, 64, 21), (64, 64, 42)]


def dns_unchunked(x: torch.Tensor, weight: torch.Tensor, m: torch.Tensor, padding: int) -> torch.Tensor:
    """The dynamic DNS conv as plain ops: x (B, C, H, W), weight (O, C, 3, 3), m (B, K, H, W) -> (B, O, H, W)."""
    b, c, h, w = x.shape
    o, _, kh, kw = weight.shape
    xp = F.pad(x.permute(0, 2, 3, 1), (0, 0, padding, padding, padding, padding))
    windows = xp.unfold(1, kh, 1).unfold(2, kw, 1)  # (B, H, W, C, kh, kw)
    p = windows.permute(0, 1, 2, 4, 5, 3).reshape(b, h, w, kh * kw, c)
    mixed = p * m.permute(0, 2, 3, 1)[..., None]
    y = mixed.reshape(-1, kh * kw * c) @ weight.permute(0, 2, 3, 1).reshape(o, kh * kw * c).t()
    return y.view(b, h, w, o).permute(0, 3, 1, 2)


def main(argv: List[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--images", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--precision", choices=["bf16", "fp32"], default="bf16")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    compiled = torch.compile(dns_unchunked, dynamic=False)
    variants: Dict[str, Callable[..., torch.Tensor]] = {
        "chunked": ns_conv_unfold_dynamic, "unchunked-eager": dns_unchunked, "unchunked-compiled": compiled}
    out: Dict[str, Dict[str, float]] = {}
    for c, o, s in SHAPES:
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(args.images, c, s, s, generator=gen).to(memory_format=torch.channels_last)
        x.requires_grad_()
        weight = (0.05 * torch.randn(o, c, 3, 3, generator=gen)).requires_grad_()
        m = (1 + 0.1 * torch.randn(args.images, 9, s, s, generator=gen)).requires_grad_()
        g = torch.randn(args.images, o, s, s, generator=gen)

        def run(fn: Callable[..., torch.Tensor]) -> Tuple[torch.Tensor, ...]:
            x.grad = weight.grad = m.grad = None
            with torch.autocast("cpu", torch.bfloat16, enabled=args.precision == "bf16"):
                y = fn(x, weight, m, 1)
            y.float().backward(g)
            return y.detach().float(), x.grad.clone(), weight.grad.clone(), m.grad.clone()

        results, key = {}, f"{c}->{o}@{s}"
        for name, fn in variants.items():
            start = time.perf_counter()
            results[name] = run(fn)
            first = time.perf_counter() - start
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                run(fn)
                times.append(time.perf_counter() - start)
            dev = max(float((a - b).abs().max() / b.abs().max()) for a, b in zip(results[name], results["chunked"]))
            out[f"{key}/{name}"] = {"first_call_s": first, "median_s": statistics.median(times),
                                    "max_rel_deviation_vs_chunked": dev}
            print(f"{key:12s} {name:20s} first call {first:7.2f} s   median {statistics.median(times):.3f} s   "
                  f"max rel. deviation {dev:.1e}", flush=True)
    emit({"precision": args.precision, "images": args.images, "repeats": args.repeats, "variants": out,
          "machine": machine()}, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
