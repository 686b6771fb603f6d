"""``fewshot-nsl leaderboard``: the paper's table, our numbers beside it, all rows on the same fixed episodes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> None:
    from ..experiments.budgets import BUDGETS, ROWS

    p = subparsers.add_parser("leaderboard", help="train and evaluate every row of the paper's table")
    p.add_argument("--dataset", default="mini-imagenet")
    p.add_argument("--data-root", default=None, help="the dataset folder (default: $FEWSHOT_NSL_DATA/<dataset>)")
    p.add_argument("--budget", default="smoke", choices=sorted(BUDGETS),
                   help="smoke: minutes, checks the pipeline; cpu: hours on a CPU; paper: the full recipes (GPU)")
    p.add_argument("--out", required=True, help="folder of the row runs and the table files (reused on re-runs)")
    p.add_argument("--methods", nargs="+", default=None, metavar="ROW",
                   help=f"rows to run (default: all): {', '.join(r.key for r in ROWS)}")
    p.add_argument("--way", type=int, default=5)
    p.add_argument("--shot", type=int, default=5)
    p.add_argument("--query", type=int, default=15)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--precision", default=None, choices=["auto", "fp32", "bf16", "fp16"],
                   help="train.precision of every row (default: each row's config, auto); rows are evaluated as "
                        "trained")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    p.add_argument("--json", action="store_true", help="print the rows as one JSON list on the last line")
    p.set_defaults(func=run_leaderboard_cli)


def run_leaderboard_cli(args: argparse.Namespace) -> int:
    from ..core.errors import ConfigError
    from ..experiments.leaderboard import run_leaderboard
    from ..experiments.table import json_rows

    for name in ("way", "shot", "query"):
        if getattr(args, name) < 1:
            raise ConfigError(f"--{name} must be >= 1, got {getattr(args, name)}")
    rows = run_leaderboard(args.dataset, args.budget, args.out, data_root=args.data_root, methods=args.methods,
                           device=args.device, way=args.way, shot=args.shot, query=args.query,
                           progress=args.progress, precision=args.precision)
    print((Path(args.out) / "leaderboard.md").read_text().rstrip())
    if args.json:
        print(json.dumps(json_rows(rows)))
    return 0
