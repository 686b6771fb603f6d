"""``fewshot-nsl leaderboard``: a paper's table (``--table``: few-shot episodes, or CIFAR test error), our numbers
beside the paper's, every row scored on the same episodes or images."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


class _Given(argparse.Action):
    """Store the value and record that it was given: a table refuses task options it does not take, and a
    dataset not given is the table's own."""

    def __call__(self, parser: Any, namespace: argparse.Namespace, values: Any, option_string: Any = None) -> None:
        setattr(namespace, self.dest, values)
        namespace.given = {*getattr(namespace, "given", ()), self.dest}


def add_parser(subparsers: Any) -> None:
    from ..experiments.tables import TABLES

    budgets = sorted({name for spec in TABLES.values() for name in spec.budgets})
    p = subparsers.add_parser("leaderboard", help="train and evaluate every row of one of the paper's tables")
    p.add_argument("--table", default="fewshot", choices=sorted(TABLES),
                   help="; ".join(f"{name}: {spec.description}" for name, spec in TABLES.items()))
    p.add_argument("--dataset", default=TABLES["fewshot"].default_dataset, action=_Given,
                   help="default: the table's own (" + ", ".join(f"{name}: {spec.default_dataset}"
                                                                for name, spec in TABLES.items()) + ")")
    p.add_argument("--data-root", default=None, help="the dataset folder (default: $FEWSHOT_NSL_DATA/<dataset>)")
    p.add_argument("--budget", default="smoke", choices=budgets,
                   help="; ".join(f"--table {name}: {', '.join(spec.budgets)}" for name, spec in TABLES.items())
                        + " (smoke: minutes, checks the pipeline; paper: the full recipes, GPU)")
    p.add_argument("--out", required=True, help="folder of the row runs and the table files (reused on re-runs)")
    p.add_argument("--methods", nargs="+", default=None, metavar="ROW",
                   help="rows to run (default: all): " + "; ".join(
                       f"--table {name}: {', '.join(r.key for r in spec.rows)}" for name, spec in TABLES.items())
                   + "".join(f"; budget {b} has {', '.join(r.key for r in budget.rows)}"
                             for spec in TABLES.values() for b, budget in spec.budgets.items() if budget.rows))
    p.add_argument("--way", type=int, default=5, action=_Given, help="few-shot tables only")
    p.add_argument("--shot", type=int, default=5, action=_Given, help="few-shot tables only")
    p.add_argument("--query", type=int, default=15, action=_Given, help="few-shot tables only")
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
    p.add_argument("--reference", default=None, metavar="ROW",
                   help="the row every other row's paired difference is taken to (default: the table's own, "
                        + ", ".join(f"{name}: {spec.reference}" for name, spec in TABLES.items()) + ")")
    p.set_defaults(func=run_leaderboard_cli, given=set())


def run_leaderboard_cli(args: argparse.Namespace) -> int:
    from ..core.errors import ConfigError
    from ..experiments.jobs import parse_shard
    from ..experiments.leaderboard import check_reference, select_rows
    from ..experiments.tables import TABLES

    spec = TABLES[args.table]
    refused = [name for name in ("way", "shot", "query") if name in args.given and name not in spec.task_options]
    if refused:
        raise ConfigError(f"--{refused[0]} does not apply to --table {args.table}")
    task = {name: getattr(args, name) for name in spec.task_options}
    for name, value in task.items():
        if value < 1:
            raise ConfigError(f"--{name} must be >= 1, got {value}")
    if args.budget not in spec.budgets:
        raise ConfigError(f"--budget {args.budget!r} is not a budget of --table {args.table} "
                          f"(known: {', '.join(spec.budgets)})")
    shard = None if args.shard is None else parse_shard(args.shard)
    chosen = {}
    if args.reference is not None:
        budget = spec.budgets[args.budget]
        keys = [r.key for r in select_rows(args.methods, budget.rows or spec.rows)]
        check_reference(args.reference, keys, chosen=True)
        chosen = {"reference": args.reference}
    dataset = args.dataset if "dataset" in args.given else spec.default_dataset
    rows = spec.run(dataset, args.budget, args.out, data_root=args.data_root,
                    methods=args.methods, device=args.device, progress=args.progress, precision=args.precision,
                    seeds=args.seeds, shard=shard, **task, **chosen)
    if shard is not None:
        done = ", ".join(f"{r['key']}/seed {r['seed']}" for r in rows) or "none"
        print(f"shard {args.shard}: finished {len(rows)} job(s) ({done}); run without --shard to write the table")
        return 0
    print((Path(args.out) / "leaderboard.md").read_text().rstrip())
    if args.json:
        print(json.dumps(json.loads((Path(args.out) / "leaderboard.json").read_text())))
    return 0
