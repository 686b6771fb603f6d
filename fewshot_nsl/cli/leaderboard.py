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
                   help=f"rows to run (default: all): {', '.join(r.key for r in ROWS)}; budget equal-5k "
                        "adds static-dns, dynamic-cnn4-g1, protonet-cnn9")
    p.add_argument("--way", type=int, default=5)
    p.add_argument("--shot", type=int, default=5)
    p.add_argument("--query", type=int, default=15)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--precision", default=None, choices=["auto", "fp32", "bf16", "fp16"],
                   help="train.precision of every row (default: each row's config, auto); rows are evaluated as "
                        "trained")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    p.add_argument("--json", action="store_true", help="print the rows as one JSON list on the last line")
    p.add_argument("--seeds", nargs="+", type=int, default=None, metavar="SEED",
                   help="train every row once per seed (run directories ROW/seed-N; one seed or none: ROW/)")
    p.add_argument("--shard", default=None, metavar="I/N",
                   help="run only every N-th row x seed job from the I-th (0-based) and write no table; the same "
                        "command without --shard then assembles the table from the finished runs")
    p.set_defaults(func=run_leaderboard_cli)


def run_leaderboard_cli(args: argparse.Namespace) -> int:
    from ..core.errors import ConfigError
    from ..experiments.jobs import parse_shard
    from ..experiments.leaderboard import run_leaderboard
    from ..experiments.table import json_rows

    for name in ("way", "shot", "query"):
        if getattr(args, name) < 1:
            raise ConfigError(f"--{name} must be >= 1, got {getattr(args, name)}")
    shard = None if args.shard is None else parse_shard(args.shard)
    rows = run_leaderboard(args.dataset, args.budget, args.out, data_root=args.data_root, methods=args.methods,
                           device=args.device, way=args.way, shot=args.shot, query=args.query,
                           progress=args.progress, precision=args.precision, seeds=args.seeds,
                           shard=shard)
    if shard is not None:
        done = ", ".join(f"{r['key']}/seed {r['seed']}" for r in rows) or "none"
        print(f"shard {args.shard}: finished {len(rows)} job(s) ({done}); run without --shard to write the table")
        return 0
    print((Path(args.out) / "leaderboard.md").read_text().rstrip())
    if args.json:
        print(json.dumps(json_rows(rows)))
    return 0
