"""``fewshot-nsl eval RUN_DIR``: accuracy with its 95% CI on fixed episodes."""

from __future__ import annotations

import argparse
import json
from typing import Any


def add_parser(subparsers: Any) -> None:
    from ..runtime.precision import PRECISIONS

    p = subparsers.add_parser("eval", help="evaluate a trained run on fixed episodes (mean and 95%% CI)")
    p.add_argument("run_dir", help="a run directory written by 'fewshot-nsl train'")
    p.add_argument("--data-root", default=None)
    p.add_argument("--split", default=None, help="default: the run's eval.split (test)")
    p.add_argument("--way", type=int, default=None)
    p.add_argument("--shot", type=int, default=None)
    p.add_argument("--query", type=int, default=None)
    p.add_argument("--episodes", type=int, default=None)
    p.add_argument("--episodes-file", default=None, help="a fixed episodes file (default: the standard one)")
    p.add_argument("--checkpoint", default="best", help="best, last, or a checkpoint path")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--precision", default=None, choices=list(PRECISIONS),
                   help="compute precision of the forward passes (default: the run's train.precision, as trained)")
    p.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    p.set_defaults(func=run_eval)


def report(result: Any, as_json: bool) -> None:
    """Print the result with its protocol; with ``as_json`` the last line is one JSON object."""
    print(result.summary())
    for key, value in result.protocol.items():
        print(f"  {key}: {value}")
    if as_json:
        payload = {
            **{k: v for k, v in result.protocol.items() if isinstance(v, (str, int, float, bool)) or v is None},
            # fractions, as the CLI contract says; the summary line above is in percent
            "accuracy": float(result.mean), "ci95": float(result.ci95),
            "episodes": int(result.episodes),
            "way": int(result.way), "shot": int(result.shot), "query": int(result.query),
        }
        print(json.dumps(payload))


def run_eval(args: argparse.Namespace) -> int:
    from ..core.errors import ConfigError
    from ..evaluation.run_eval import evaluate_run

    for name in ("way", "shot", "query", "episodes"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ConfigError(f"--{name} must be >= 1, got {value}")
    result = evaluate_run(
        args.run_dir, split=args.split, way=args.way, shot=args.shot, query=args.query, episodes=args.episodes,
        episodes_file=args.episodes_file, data_root=args.data_root, device=args.device, checkpoint=args.checkpoint,
        precision=args.precision,
    )
    report(result, args.json)
    return 0
