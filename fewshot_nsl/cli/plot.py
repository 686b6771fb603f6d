"""``fewshot-nsl plot RUN_DIR... [--out FILE.png]``: training loss and validation accuracy curves."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("plot", help="training curves of one or more runs to a PNG (needs matplotlib)")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    p.add_argument("--out", default=None, help="PNG file (default: RUN_DIR/curves.png of the first run)")
    p.set_defaults(func=run_plot)


def run_plot(args: argparse.Namespace) -> int:
    from ..evaluation.plots import plot_training_curves

    out = Path(args.out) if args.out else Path(args.run_dirs[0]) / "curves.png"
    path = plot_training_curves(args.run_dirs, out)
    print(f"wrote {path}")
    return 0
