"""Pool before ReLU (backbones/cnn4.py conv_block): the training step of a backbone against its textbook-order twin.

Both networks hold the same weights and compute the same numbers bit for bit
(tests/backbones/test_pool_before_relu.py, whose ``textbook_order`` builds the twin); this times a ProtoNet
training step of each (bench_roofline.train_step: 5-way 5-shot 15-query, 100 images, channels-last) in one
process, in interleaved pairs whose order alternates, and prints the median per-pair ratio new/textbook with
its quartiles.

    OMP_NUM_THREADS=1 python benchmarks/bench_pool_order.py --variant cnn4/plain --size 42 --precision fp32 --pairs 20
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path
from typing import List

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import emit, machine  # noqa: E402
from bench_roofline import EXTRA, VARIANTS, build_net, train_step  # noqa: E402

_spec = importlib.util.spec_from_file_location("pool_order_test", ROOT / "tests" / "backbones" / "test_pool_before_relu.py")
_test = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_test)


def main(argv: List[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variant", default="cnn4/plain", choices=sorted({**VARIANTS, **EXTRA}))
    ap.add_argument("--size", type=int, default=42)
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    ap.add_argument("--pairs", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    new = build_net(args.variant, torch.device("cpu"))
    nets = {"pool_first": new, "textbook": _test.textbook_order(new)}
    images = torch.randn(100, 3, args.size, args.size).contiguous(memory_format=torch.channels_last)
    steps = {k: train_step(net, images, args.precision, 5, 5) for k, net in nets.items()}
    for step in steps.values():  # warm-up: oneDNN primitives, allocator
        step(), step()
    seconds = {k: [] for k in steps}
    ratios = []
    for i in range(args.pairs):
        for key in (("pool_first", "textbook") if i % 2 else ("textbook", "pool_first")):
            start = time.perf_counter()
            steps[key]()
            seconds[key].append(time.perf_counter() - start)
        ratios.append(seconds["pool_first"][-1] / seconds["textbook"][-1])
    q1, median, q3 = statistics.quantiles(ratios, n=4)
    result = {"variant": args.variant, "size": args.size, "precision": args.precision, "pairs": args.pairs,
              "textbook_s": statistics.median(seconds["textbook"]),
              "pool_first_s": statistics.median(seconds["pool_first"]),
              "ratio_median": median, "ratio_quartiles": [q1, q3], "machine": machine()}
    print(f"{args.variant}@{args.size} {args.precision}, {args.threads} thread(s), {args.pairs} pairs: textbook "
          f"{result['textbook_s']:.3f} s, pool first {result['pool_first_s']:.3f} s; pool-first/textbook median "
          f"{median:.3f} (quartiles {q1:.3f}-{q3:.3f})")
    emit(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
