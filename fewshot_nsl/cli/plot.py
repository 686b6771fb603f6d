"""``fewshot-nsl plot RUN_DIR... [--out FILE.png]``: training loss and validation accuracy curves of runs; or
``fewshot-nsl plot LEADERBOARD_DIR``: every row's learning curve over its seeds (episodes and wall clock)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("plot", help="training curves of runs, or of a leaderboard's rows, to a PNG "
                                           "(needs matplotlib)")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR",
                   help="run directories, or one leaderboard --out folder (its rows' learning curves)")
    p.add_argument("--out", default=None, help="PNG file (default: curves.png in the first folder)")
    p.set_defaults(func=run_plot)


def run_plot(args: argparse.Namespace) -> int:
    from ..evaluation.curves import is_leaderboard_dir
    from ..evaluation.plots import plot_leaderboard_curves, plot_training_curves

    out = Path(args.out) if args.out else Path(args.run_dirs[0]) / "curves.png"
    if len(args.run_dirs) == 1 and is_leaderboard_dir(args.run_dirs[0]):
        path = plot_leaderboard_curves(args.run_dirs[0], out)
    else:
        path = plot_training_curves(args.run_dirs, out)
    print(f"wrote {path}")
    return 0
