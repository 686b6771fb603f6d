"""Evaluation with each distinct image embedded once, against embedding every episode's images afresh (issue 6).

600 5-way 5-shot 15-query episodes. The Mini-ImageNet test images are withheld here, so the default split is val
(16 classes); with the test images present, pass ``--split test``. A randomly initialised model is enough to
time the two paths and check that they agree episode by episode; ``--run-dir`` evaluates a trained run instead.
MAML-style methods (``features_depend_on_episode``) adapt per episode and cannot use the cache; the script says so.

    python benchmarks/bench_eval.py --data-root ../shared/data/mini-imagenet --json
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, machine  # noqa: E402

from fewshot_nsl.data import load_split  # noqa: E402
from fewshot_nsl.episodes import EpisodeSampler  # noqa: E402
from fewshot_nsl.evaluation.evaluator import evaluate  # noqa: E402
from fewshot_nsl.runtime.build import build_method  # noqa: E402
from fewshot_nsl.runtime.config import resolve_config  # noqa: E402
from fewshot_nsl.runtime.memory_format import place_method  # noqa: E402
from fewshot_nsl.training.stream import make_transform  # noqa: E402


def bench(method_name: str, images, episodes, device: str) -> dict:
    config = resolve_config(method_name, overrides=["data.dataset=mini-imagenet"])
    torch.manual_seed(0)
    method = place_method(build_method(config, images.image_shape, 64), torch.device(device),
                          config.train.channels_last)  # as load_model does for `fewshot-nsl eval`
    if method.features_depend_on_episode:
        return {"method": method_name, "cacheable": False,
                "note": "features depend on the episode (inner-loop adaptation): evaluated per episode only"}
    transform = make_transform(images, augment=False)
    start = time.perf_counter()
    cached = evaluate(method, images, episodes, transform, device, progress=True, cache_features=True)
    t_cached = time.perf_counter() - start
    start = time.perf_counter()
    fresh = evaluate(method, images, episodes, transform, device, progress=True, cache_features=False)
    t_fresh = time.perf_counter() - start
    return {
        "method": method_name, "cacheable": True, "cached_s": t_cached, "per_episode_s": t_fresh,
        "speedup": t_fresh / t_cached, "same_accuracy": bool(np.array_equal(cached.accuracies, fresh.accuracies)),
        "accuracy": 100 * cached.mean, "ci95": 100 * cached.ci95,  # percent, as this report always gave them
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--split", default="val")
    parser.add_argument("--episodes", type=int, default=600)
    parser.add_argument("--image-size", type=int, default=None, help="default: the dataset's (84)")
    parser.add_argument("--methods", nargs="+", default=["protonet", "dynamic", "maml"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    images = load_split("mini-imagenet", args.split, args.data_root, args.image_size)
    sampler = EpisodeSampler(images.labels, 5, 5, 15, seed=0)
    episodes = [sampler.episode(i) for i in range(args.episodes)]
    rows = [bench(m, images, episodes, args.device) for m in args.methods]
    for r in rows:
        if r["cacheable"]:
            print(f"{r['method']:10s} cached {r['cached_s']:.1f}s  per-episode {r['per_episode_s']:.1f}s  "
                  f"speedup {r['speedup']:.2f}x  same accuracy: {r['same_accuracy']}")
        else:
            print(f"{r['method']:10s} {r['note']}")
    timed = [r for r in rows if r["cacheable"]]
    emit({"speedup": min(r["speedup"] for r in timed), "same_accuracy": all(r["same_accuracy"] for r in timed),
          "episodes": args.episodes, "split": args.split, "image_size": images.image_shape[1], "rows": rows,
          "machine": machine()}, args.json)


if __name__ == "__main__":
    main()
