"""Training pipeline overhead: episodes/s of real training against the pure-compute floor (issue 6).

Real training = the trainer's own loop: DataLoader workers read the memory-mapped image cache, sample and augment
each episode, then forward, backward and the optimiser step. The floor = the same model and trainer stepping on one
pre-built tensor episode, no data pipeline. Both are timed in the same run, interleaved in rounds so that a
slow-down of the machine hits both alike; the ratio is what counts.

    python benchmarks/bench_train.py --data-root ../shared/data/mini-imagenet --json
"""

from __future__ import annotations

import argparse
import itertools
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PeakAnonMemory, emit, machine  # noqa: E402

from fewshot_nsl.runtime.config import resolve_config  # noqa: E402
from fewshot_nsl.evaluation.evaluator import episode_accuracies  # noqa: E402
from fewshot_nsl.training.trainer import Trainer  # noqa: E402


def _time_steps(trainer: Trainer, stream, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        trainer._train_step(stream)
    return (time.perf_counter() - start) / steps


def bench_method(method: str, args: argparse.Namespace) -> dict:
    total = args.warmup + args.rounds * args.steps
    overrides = [
        f"data.dataset={args.dataset}", f"data.num_workers={args.num_workers}", "task.way=5", "task.shot=5",
        "task.query=15", f"train.episodes={total + 5}", "train.val_episodes=1", "train.progress=false",
        f"train.device={args.device}", "train.meta_batch=1",
    ]
    if args.data_root:
        overrides.append(f"data.data_root={args.data_root}")
    if args.image_size:
        overrides.append(f"data.image_size={args.image_size}")
    precision = "fp16" if args.amp and args.precision is None else (args.precision or "fp32")
    overrides.append(f"train.precision={precision}")  # fp32 unless asked: the reference the figures compare to
    config = resolve_config(method, overrides=overrides)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(config, Path(tmp), validator=episode_accuracies)
        stream = trainer._stream()
        fixed = trainer._to_device(next(stream))
        floor_stream = itertools.repeat(fixed)
        with PeakAnonMemory() as memory:
            _time_steps(trainer, stream, args.warmup)
            _time_steps(trainer, floor_stream, args.warmup)
            pipeline, floor = [], []
            for _ in range(args.rounds):
                pipeline.append(_time_steps(trainer, stream, args.steps))
                floor.append(_time_steps(trainer, floor_stream, args.steps))
    p, f = statistics.median(pipeline), statistics.median(floor)
    return {
        "method": method, "pipeline_s_per_episode": p, "floor_s_per_episode": f, "overhead_ratio": p / f,
        "episodes_per_s": 1.0 / p, "peak_anon_rss_gib": memory.peak_gib, "precision": trainer.precision,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="mini-imagenet")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--methods", nargs="+", default=["protonet", "static", "dynamic"])
    parser.add_argument("--num-workers", type=int, default=1)
    parser.add_argument("--image-size", type=int, default=None)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3, help="steps per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default=None, choices=["auto", "fp32", "bf16", "fp16"],
                        help="train.precision of the timed runs (default fp32)")
    parser.add_argument("--amp", action="store_true", help="deprecated alias of --precision fp16")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rows = [bench_method(m, args) for m in args.methods]
    print(f"{'method':10s} {'pipeline s/ep':>14s} {'floor s/ep':>11s} {'overhead':>9s} {'peak anon GiB':>14s}")
    for r in rows:
        print(f"{r['method']:10s} {r['pipeline_s_per_episode']:14.3f} {r['floor_s_per_episode']:11.3f} "
              f"{r['overhead_ratio']:9.3f} {r['peak_anon_rss_gib']:14.2f}")
    worst = max(r["overhead_ratio"] for r in rows)
    protonet = next((r for r in rows if r["method"] == "protonet"), rows[0])
    emit({"overhead_ratio": worst, "peak_rss_gib": protonet["peak_anon_rss_gib"], "rows": rows,
          "num_workers": args.num_workers, "machine": machine()}, args.json)


if __name__ == "__main__":
    main()
