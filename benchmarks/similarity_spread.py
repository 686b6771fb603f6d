"""How far a trained dynamic NSN's predicted similarities stray from the identity, layer by layer.

For every dynamic NS layer of a run's checkpoint, the predicted M on a fixed set of validation images is
compared with the identity: DNS m (B, K, H, W) through m - 1, UNS M (B, K, K, H, W) through M - I. The
released design puts a BatchNorm (gamma 1, eps 1e-3) on the DNS predictor's output, so once the pre-BN
variance exceeds eps the diagonal becomes 1 + (unit-variance signal); this script measures that.

Usage:
    python benchmarks/similarity_spread.py RUN_DIR [--checkpoint last] [--at-init] [--images 100] [--bn train|eval]
        [--json]

``--at-init`` measures the run's model as the trainer built it before the first step (same config and seed)
instead of the checkpoint's weights.

Images: ``--images`` drawn with seed 0 from the run's validation split at the run's image size, normalised
as for evaluation. ``--bn train`` uses batch statistics (as during training), ``eval`` the running ones.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, machine  # noqa: E402

from fewshot_nsl.data import load_split  # noqa: E402
from fewshot_nsl.evaluation.loading import load_model  # noqa: E402
from fewshot_nsl.layers.predictors import SimilarityPredictor  # noqa: E402
from fewshot_nsl.runtime.build import build_method  # noqa: E402


def spread(prediction: torch.Tensor) -> dict[str, float]:
    """Statistics of a predicted DNS m (B, K, H, W) or UNS M (B, K, K, H, W) against the identity."""
    if prediction.dim() == 4:
        deviation, diagonal = prediction - 1.0, prediction
    else:
        k = prediction.shape[1]
        eye = torch.eye(k, dtype=prediction.dtype, device=prediction.device)[None, :, :, None, None]
        deviation, diagonal = prediction - eye, torch.diagonal(prediction, dim1=1, dim2=2)
    return {
        "std_deviation": float(deviation.std()),
        "mean_deviation": float(deviation.mean()),
        "negative_diagonal_fraction": float((diagonal < 0).float().mean()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir")
    parser.add_argument("--checkpoint", default="last")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--bn", choices=("train", "eval"), default="train")
    parser.add_argument("--at-init", action="store_true", help="the untrained model (the run's config and seed)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    model = load_model(args.run_dir, checkpoint=args.checkpoint, device="cpu")
    c = model.config
    if args.at_init:
        torch.manual_seed(c.train.seed)  # as the trainer does before building the method
        model.method.load_state_dict(build_method(c, model.image_shape, model.method.num_base_classes).state_dict())
    images = load_split(c.data.dataset, c.data.val_split, args.data_root, model.image_shape[1], c.data.cache_dir)
    chosen = np.sort(np.random.default_rng(0).choice(len(images.labels), args.images, replace=False))
    batch = model.transform(images.images[chosen])
    layers: list[dict[str, float]] = []
    predictors = [m for m in model.method.modules() if isinstance(m, SimilarityPredictor)]
    if not predictors:
        raise SystemExit(f"{args.run_dir}: model.nsl={c.model.nsl!r} has no predicted similarities")
    hooks = [p.register_forward_hook(lambda mod, inp, out: layers.append(spread(out.detach()))) for p in predictors]
    model.method.train(args.bn == "train")
    with torch.no_grad():
        model.method.embed(batch)
    for hook in hooks:
        hook.remove()
    weights = "at init" if args.at_init else f"checkpoint {args.checkpoint}"
    print(f"{args.run_dir} ({c.model.backbone}, {c.model.nsl}, {weights}), {args.images} {c.data.val_split} images, "
          f"BN {args.bn}:")
    for i, s in enumerate(layers):
        print(f"  NS layer {i}: std(M - I) {s['std_deviation']:.3f}, mean {s['mean_deviation']:+.3f}, "
              f"negative diagonal entries {100 * s['negative_diagonal_fraction']:.1f} %")
    emit({"run_dir": args.run_dir, "checkpoint": "init" if args.at_init else args.checkpoint, "bn": args.bn,
          "images": args.images, "layers": layers, "machine": machine()}, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
