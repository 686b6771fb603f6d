"""Cost of one training iteration of the CIFAR table's rows: the classifier on cifar9, 32x32 inputs, forward +
backward + SGD step of a random mini-batch (the data pipeline, a pad/crop/flip of 32 px uint8 images, not
included). One JSON line per (row, precision): the seconds of each timed iteration after one warm-up.

    OMP_NUM_THREADS=1 nice python benchmarks/bench_cifar_step.py --rows plain dynamic-dns --precisions fp32 bf16
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from fewshot_nsl import backbones
from fewshot_nsl.experiments.cifar_rows import CIFAR_ROWS
from fewshot_nsl.methods import get_method
from fewshot_nsl.runtime.precision import autocast


def _nsl_options(overrides: tuple[str, ...]) -> dict[str, str]:
    """``model.nsl`` and ``model.param`` of a row's overrides, as backbone options."""
    pairs = (o.split("=", 1) for o in overrides if o.startswith("model."))
    return {k.removeprefix("model."): v for k, v in pairs}


def time_row(key: str, precision: str, batch: int, classes: int, iterations: int) -> list[float]:
    """Seconds of ``iterations`` timed training iterations of row ``key`` (after one warm-up)."""
    row = next(r for r in CIFAR_ROWS if r.key == key)
    torch.manual_seed(0)
    cls = get_method("classifier")
    method = cls(backbones.build("cifar9", **_nsl_options(row.overrides)), (3, 32, 32), classes, cls.Options())
    opt = torch.optim.SGD(method.parameters(), lr=0.01, momentum=0.9)
    x, y = torch.rand(batch, 3, 32, 32) * 255, torch.randint(0, classes, (batch,))
    times = []
    for _ in range(iterations + 1):
        start = time.perf_counter()
        with autocast(precision, "cpu"):
            loss, _ = method.supervised_loss(x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - start)
    return times[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="+", default=["plain", "static-dns", "static-uns", "dynamic-dns"])
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--classes", type=int, default=80, help="80: the mini-imagenet-generic stand-in")
    parser.add_argument("--iterations", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for key in args.rows:
        for precision in args.precisions:
            times = time_row(key, precision, args.batch, args.classes, args.iterations)
            print(json.dumps({"row": key, "precision": precision, "batch": args.batch, "seconds": times,
                              "mean_s": sum(times) / len(times)}), flush=True)


if __name__ == "__main__":
    main()
