"""The no-learning floor: prototypes of normalised raw pixels, on the same fixed episodes as a leaderboard.

A trained model that does not clear this by a wide margin is broken (see ../shared/data/README.md). Images
are resized and normalised exactly as for evaluation (no augmentation); each support class is the mean of its
pixel vectors and a query takes the class of the nearest mean (squared Euclidean distance).

Usage:
    python benchmarks/pixel_floor.py --dataset mini-imagenet --split val --image-size 42 \
        --episodes-file runs/lb/episodes/FILE.json.gz [--json]

Without ``--episodes-file`` the committed standard file for (dataset, split, way, shot) is used, else seeded
episodes (seed 0). The last line with ``--json`` is one JSON object with ``accuracy`` and ``ci95`` (percent).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, machine  # noqa: E402

from fewshot_nsl.backbones.base import WrappedBackbone  # noqa: E402
from fewshot_nsl.data import load_split  # noqa: E402
from fewshot_nsl.episodes import EpisodeSampler  # noqa: E402
from fewshot_nsl.episodes.files import read_episode_file, standard_episode_file  # noqa: E402
from fewshot_nsl.evaluation.evaluator import evaluate  # noqa: E402
from fewshot_nsl.methods.protonet import ProtoNet  # noqa: E402
from fewshot_nsl.training.stream import make_transform  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="mini-imagenet")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--split", default="val")
    parser.add_argument("--image-size", type=int, default=None)
    parser.add_argument("--way", type=int, default=5)
    parser.add_argument("--shot", type=int, default=5)
    parser.add_argument("--query", type=int, default=15)
    parser.add_argument("--episodes", type=int, default=600)
    parser.add_argument("--episodes-file", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    images = load_split(args.dataset, args.split, args.data_root, args.image_size)
    path = args.episodes_file or standard_episode_file(args.dataset, args.split, args.way, args.shot, args.query,
                                                       args.episodes)
    if path is not None:
        episodes = read_episode_file(path).to_episodes(images)
    else:
        sampler = EpisodeSampler(images.labels, args.way, args.shot, args.query, seed=0)
        episodes = [sampler.episode(i) for i in range(args.episodes)]
    method = ProtoNet(WrappedBackbone(nn.Flatten()), images.image_shape, images.num_classes).eval()
    with torch.no_grad():
        result = evaluate(method, images, episodes, make_transform(images, augment=False), torch.device("cpu"),
                          progress=False, cache_features=True)
    print(f"pixel prototypes, {args.dataset}/{args.split} {images.image_shape[1]}px, {len(episodes)} episodes "
          f"({path or 'seed 0'}): {100 * result.mean:.2f} ± {100 * result.ci95:.2f} %")
    # percent in this report's JSON, as documented above (EvalResult holds fractions)
    emit({"accuracy": 100 * result.mean, "ci95": 100 * result.ci95, "episodes": len(episodes),
          "episodes_file": str(path) if path else None, "image_size": images.image_shape[1],
          "dataset": args.dataset, "split": args.split, "machine": machine()}, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
