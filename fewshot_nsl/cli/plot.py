"""``fewshot-nsl plot RUN_DIR... [--out FILE.png]``: training loss and validation accuracy curves of runs; or
``fewshot-nsl plot LEADERBOARD_DIR``: every row's learning curve over its seeds (episodes and wall clock)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("plot", help="training curves of runs, or of a leaderboard's rows, to a PNG "
                                           "(needs matplotlib)")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR",
                   help="run directories, or one leaderboard --out folder (its rows' learning curves)")
    p.add_argument("--out", default=None, help="PNG file (default: curves.png in the first folder)")
    p.add_argument("--summary", action="store_true",
                   help="LEADERBOARD_DIR only: print, instead of drawing (no matplotlib needed), each row's last "
                        "curve point and end slope across seeds and its gap to --reference along training")
    p.add_argument("--reference", default="protonet", help="--summary: the row the gaps are taken to")
    p.add_argument("--window", type=int, default=2000,
                   help="--summary: the slope is fitted over each seed's last WINDOW training episodes")
    p.add_argument("--json", action="store_true", help="--summary: also print the numbers as one JSON line")
    p.set_defaults(func=run_plot)


def run_plot(args: argparse.Namespace) -> int:
    from ..evaluation.curves import is_leaderboard_dir
    from ..evaluation.plots import plot_leaderboard_curves, plot_training_curves

    if args.summary:
        return _summary(args)
    out = Path(args.out) if args.out else Path(args.run_dirs[0]) / "curves.png"
    if len(args.run_dirs) == 1 and is_leaderboard_dir(args.run_dirs[0]):
        path = plot_leaderboard_curves(args.run_dirs[0], out)
    else:
        path = plot_training_curves(args.run_dirs, out)
    print(f"wrote {path}")
    return 0


def _summary(args: argparse.Namespace) -> int:
    from ..core.errors import ConfigError
    from ..evaluation.curve_stats import curve_summary, summary_markdown
    from ..evaluation.curves import is_leaderboard_dir

    if len(args.run_dirs) != 1 or not is_leaderboard_dir(args.run_dirs[0]):
        raise ConfigError("--summary takes one leaderboard --out folder (rows with ROW/seed-N runs), got "
                          + " ".join(args.run_dirs))
    if args.window < 1:
        raise ConfigError(f"--window must be a positive number of episodes, got {args.window}")
    items = curve_summary(args.run_dirs[0], args.reference, args.window)
    print(summary_markdown(items, args.reference), end="")
    if args.json:
        print(json.dumps(items))
    return 0
