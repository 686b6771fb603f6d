"""A/B of one training step between two versions of the package: interleaved pairs, a ratio in one run.

Speed changes to the layers are often 5-10 %, below the drift of a machine that is also training. This script
times the same step (a ``bench_roofline.py`` variant: forward + backward of a ProtoNet loss on one 100-image
episode, channels-last) under two package versions, in two long-lived worker processes, alternating which goes
first in each pair, and reports the median and quartiles of the per-pair ratio ``new / base``. Both workers
build the network from the same seed. ``--base`` is a commit (its package is extracted with ``git archive`` into a
temporary folder); ``--new`` is a commit or ``worktree`` (this checkout as it is).

    python benchmarks/bench_ab.py --base HEAD --variant cnn4/dynamic-dns --size 42 --precision bf16 \\
        --threads 1 --pairs 12 --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path
from typing import Dict, List

BENCHMARKS = Path(__file__).resolve().parent
REPO = BENCHMARKS.parent

#: run by each worker: build the step, then time one step per line read from stdin
WORKER = r"""
import sys, time, torch
package, benchmarks, key, size, precision, threads = sys.argv[1:7]
sys.path[:0] = [package, benchmarks]
torch.set_num_threads(int(threads))
import fewshot_nsl
from bench_roofline import build_net, train_step
torch.manual_seed(0)
net = build_net(key, torch.device("cpu"))
images = torch.randn(100, 3, int(size), int(size)).contiguous(memory_format=torch.channels_last)
step = train_step(net, images, precision, 5, 5)
step(); step()  # warm-up: oneDNN primitives, allocator
print("ready", fewshot_nsl.__file__, flush=True)
for _ in sys.stdin:
    start = time.perf_counter(); step()
    print(time.perf_counter() - start, flush=True)
"""


def package_dir(rev: str, scratch: Path) -> Path:
    """A folder whose ``fewshot_nsl`` is the package of ``rev`` (``worktree``: this checkout's)."""
    if rev == "worktree":
        return REPO
    sha = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--verify", f"{rev}^{{commit}}"],
                         capture_output=True, text=True)
    if sha.returncode != 0:
        print(f"error: --base/--new {rev!r} is not a commit of {REPO}", file=sys.stderr)
        raise SystemExit(2)
    out = scratch / sha.stdout.strip()[:12]
    archive = subprocess.run(["git", "-C", str(REPO), "archive", sha.stdout.strip(), "fewshot_nsl"],
                             capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(out, filter="data")
    return out


class Worker:
    """One process holding the step of one package version."""

    def __init__(self, package: Path, args: argparse.Namespace) -> None:
        cmd = [sys.executable, "-c", WORKER, str(package), str(BENCHMARKS), args.variant, str(args.size),
               args.precision, str(args.threads)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready = self.proc.stdout.readline().split()
        if not ready or ready[0] != "ready":
            raise RuntimeError(f"worker for {package} did not start")
        self.package_file = ready[1]
        if not self.package_file.startswith(str(package)):
            raise RuntimeError(f"worker imported {self.package_file}, not the package under {package}")

    def step(self) -> float:
        self.proc.stdin.write("step\n")
        self.proc.stdin.flush()
        return float(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def main(argv: List[str] | None = None) -> int:
    sys.path.insert(0, str(BENCHMARKS))
    from bench_roofline import EXTRA, VARIANTS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="commit of the reference version")
    parser.add_argument("--new", default="worktree", help="commit of the changed version, or 'worktree'")
    parser.add_argument("--variant", default="cnn4/dynamic-dns", choices=[*VARIANTS, *EXTRA])
    parser.add_argument("--size", type=int, default=42)
    parser.add_argument("--precision", default="bf16", choices=["fp32", "bf16"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--pairs", type=int, default=12)
    parser.add_argument("--json", action="store_true", help="print the result as one JSON line at the end")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        base = Worker(package_dir(args.base, Path(scratch)), args)
        new = Worker(package_dir(args.new, Path(scratch)), args)
        times: Dict[str, List[float]] = {"base": [], "new": []}
        for i in range(args.pairs):
            order = (("base", base), ("new", new)) if i % 2 == 0 else (("new", new), ("base", base))
            for name, worker in order:
                times[name].append(worker.step())
        base.close()
        new.close()
    ratios = [n / b for n, b in zip(times["new"], times["base"])]
    quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
    result = {
        "variant": f"{args.variant}@{args.size}", "precision": args.precision, "threads": args.threads,
        "base": args.base, "new": args.new, "pairs": args.pairs,
        "median_base_s": statistics.median(times["base"]), "median_new_s": statistics.median(times["new"]),
        "ratio_new_over_base": {"median": statistics.median(ratios), "q1": quartiles[0], "q3": quartiles[2]},
    }
    r = result["ratio_new_over_base"]
    print(f"{result['variant']} {args.precision}, {args.threads} thread(s), {args.pairs} pairs: base "
          f"{result['median_base_s']:.3f} s, new {result['median_new_s']:.3f} s; new/base median {r['median']:.3f} "
          f"(quartiles {r['q1']:.3f}-{r['q3']:.3f})")
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
