"""``fewshot-nsl models``: parameter count and feature size of every built-in backbone x NS variant."""

from __future__ import annotations

import argparse
from typing import Dict, List, Sequence

import torch

from .. import backbones
from ..core.errors import ConfigError

#: (nsl, param) rows of the table; ``param`` only matters for dynamic variants
VARIANTS = [("none", "-"), ("static-dns", "-"), ("static-uns", "-"), ("dynamic-dns", "disjoint"),
            ("dynamic-dns", "shared"), ("dynamic-uns", "disjoint"), ("dynamic-uns", "shared")]
#: classifier backbones: listed at their own input side, with their score layer for ``--num-classes`` classes
#: (cifar9: 32x32, NSL_SPEC §6's counts are for 10 classes)
NATIVE_SIZE = {"cifar9": 32}


def model_table(image_size: int = 84, in_channels: int = 3, names: Sequence[str] = ("cnn4", "cnn9"),
                learn_shape: bool = False, plain_first_layer: bool = False,
                num_classes: int = 10) -> List[Dict[str, object]]:
    """One row per backbone x variant: backbone, nsl, param, params (count), feature_dim, feature_map
    (C, h, w).

    Feature sizes come from a dry run on one (in_channels, image_size, image_size) input; a backbone of
    :data:`NATIVE_SIZE` is built with its score layer for ``num_classes`` classes and measured at its own side.
    """
    if image_size < 1 or in_channels < 1:
        raise ConfigError(f"--image-size and --in-channels must be positive, got {image_size}, {in_channels}")
    rows: List[Dict[str, object]] = []
    for name in names:
        for nsl, param in VARIANTS:
            if learn_shape and nsl == "none":
                continue
            native = {"num_classes": num_classes} if name in NATIVE_SIZE else {}
            net = backbones.build(name, in_channels=in_channels, nsl=nsl,
                                  param="disjoint" if param == "-" else param,
                                  learn_shape=learn_shape, plain_first_layer=plain_first_layer, **native)
            side = NATIVE_SIZE.get(name, image_size)
            shape = (in_channels, side, side)
            try:
                fmap = net.map_shape(shape)
            except RuntimeError as exc:
                raise ConfigError(f"--image-size {image_size} is too small for backbone {name} "
                                  f"({str(exc).splitlines()[0]})") from None
            if min(fmap[1:]) < 1:
                raise ConfigError(f"--image-size {image_size} is too small for backbone {name}")
            rows.append({"backbone": name, "nsl": nsl, "param": param,
                         "params": sum(p.numel() for p in net.parameters()),
                         "feature_dim": net.feature_dim(shape), "feature_map": tuple(fmap)})
    return rows


def format_table(rows: List[Dict[str, object]]) -> str:
    """The rows as an aligned text table, with the count relative to the plain backbone."""
    plain = {r["backbone"]: r["params"] for r in rows if r["nsl"] == "none"}
    lines = [f"{'backbone':8s} {'nsl':12s} {'param':8s} {'params':>10s} {'x plain':>8s} {'feature':>8s}  map"]
    for r in rows:
        ratio = f"{r['params'] / plain[r['backbone']]:.2f}" if r["backbone"] in plain else "-"
        fmap = "x".join(str(v) for v in r["feature_map"])
        lines.append(f"{r['backbone']:8s} {r['nsl']:12s} {r['param']:8s} {r['params']:>10,d} {ratio:>8s} "
                     f"{r['feature_dim']:>8d}  {fmap}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Handler of ``fewshot-nsl models``; prints the table, returns the exit code 0."""
    with torch.no_grad():
        rows = model_table(args.image_size, args.in_channels, args.backbones, args.learn_shape,
                           args.plain_first_layer, args.num_classes)
    print(f"input {args.in_channels}x{args.image_size}x{args.image_size}")
    print(format_table(rows))
    for name in (n for n in NATIVE_SIZE if n in args.backbones):
        side = NATIVE_SIZE[name]
        print(f"{name}: input {args.in_channels}x{side}x{side}, score layer for {args.num_classes} classes included")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``models [--image-size 84] [--in-channels 3] [--backbones ...] [--learn-shape]
    [--plain-first-layer]``."""
    parser = subparsers.add_parser("models", description=__doc__,
                                   help="parameter counts and feature sizes of every backbone x NS variant")
    parser.add_argument("--image-size", type=int, default=84, help="input height = width (default 84)")
    parser.add_argument("--in-channels", type=int, default=3, help="input channels (3 RGB, 1 Omniglot)")
    parser.add_argument("--backbones", nargs="+", default=["cnn4", "cnn9", "cifar9"], help="backbones to list")
    parser.add_argument("--num-classes", type=int, default=10, help="classes of cifar9's score layer (10)")
    parser.add_argument("--learn-shape", action="store_true", help="count the kernel-shape gates too")
    parser.add_argument("--plain-first-layer", action="store_true", help="keep the first conv plain")
    parser.set_defaults(func=run)
    return parser
