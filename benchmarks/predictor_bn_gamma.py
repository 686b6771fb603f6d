"""Train a dynamic DNS NSN with the predictors' output BatchNorm scale (gamma) initialised to a chosen value.

The released design (NSL_SPEC §3.2) ends every DNS predictor with a BN of gamma 1, so once the pre-BN variance of
the predicted diagonal exceeds the BN's eps (1e-3) the diagonal becomes m = 1 + (unit-variance signal): every 3x3
tap is reweighted by a factor of about 1 +- 1 (see ``similarity_spread.py``). This script tests whether that
explains the dynamic CNN-9's slow start, by training the same recipe with gamma initialised to ``--gamma``
(a smaller gamma keeps m near 1 until the network learns to use it). Everything else is ``fewshot-nsl train``.

Usage:
    python benchmarks/predictor_bn_gamma.py --gamma 0.1 -- --method dynamic --backbone cnn9 \
        --dataset mini-imagenet --image-size 42 --episodes 250 --no-eval --out runs/gamma-0.1

The run's metrics.jsonl holds the training accuracy every ``train.log_every`` episodes; compare it with the
same command at ``--gamma 1`` (the released init).
"""

from __future__ import annotations

import argparse
import logging
import sys

import torch

from fewshot_nsl.cli.main import main as cli_main
from fewshot_nsl.layers.predictors import SimilarityPredictor
from fewshot_nsl.training import trainer

log = logging.getLogger("predictor_bn_gamma")


def with_output_gamma(build, gamma: float):
    """``build_method`` wrapped so that every DNS predictor's output BN starts with scale ``gamma``."""

    def build_method(*args, **kwargs):
        method = build(*args, **kwargs)
        predictors = [m for m in method.modules() if isinstance(m, SimilarityPredictor) and m.similarity == "dns"]
        if not predictors:
            raise SystemExit("predictor_bn_gamma: the model has no dynamic DNS layer (use --method dynamic)")
        with torch.no_grad():
            for predictor in predictors:
                predictor.norm2.weight.fill_(gamma)
        log.warning("output BN gamma of %d DNS predictors initialised to %g", len(predictors), gamma)
        return method

    return build_method


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    split = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gamma", type=float, required=True, help="initial scale of the predictors' output BN")
    args = parser.parse_args(argv[:split])
    trainer.build_method = with_output_gamma(trainer.build_method, args.gamma)
    return cli_main(["train", *argv[split + 1:]])


if __name__ == "__main__":
    sys.exit(main())
