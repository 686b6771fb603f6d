"""``fewshot-nsl eval RUN_DIR``: accuracy with its 95% CI on fixed episodes, or, for a run of a classification
method (``evaluation_kind = "classification"``), top-1 / top-5 error on the whole split with Wilson intervals."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Callable


def add_parser(subparsers: Any) -> None:
    from ..runtime.precision import PRECISIONS

    p = subparsers.add_parser("eval", help="evaluate a trained run: accuracy on fixed episodes (95%% CI), or a "
                                           "classification run's top-1/top-5 error (Wilson intervals)")
    p.add_argument("run_dir", help="a run directory written by 'fewshot-nsl train'")
    p.add_argument("--data-root", default=None)
    p.add_argument("--split", default=None, help="default: the run's eval.split (test)")
    p.add_argument("--way", type=int, default=None)
    p.add_argument("--shot", type=int, default=None)
    p.add_argument("--query", type=int, default=None)
    p.add_argument("--episodes", type=int, default=None)
    p.add_argument("--episodes-file", default=None, help="a fixed episodes file (default: the standard one)")
    p.add_argument("--checkpoint", default=None,
                   help="best, last, or a checkpoint path (default: best; a classification run: last)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--precision", default=None, choices=list(PRECISIONS),
                   help="compute precision of the forward passes (default: the run's train.precision, as trained)")
    p.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    p.set_defaults(func=run_eval)
    p.epilog = "Few-shot runs use --way/--shot/--query/--episodes/--episodes-file; a classification run scores " \
               "every image of --split"


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


def _evaluate_episodes(args: argparse.Namespace) -> int:
    from ..core.errors import ConfigError
    from ..evaluation.run_eval import evaluate_run

    for name in ("way", "shot", "query", "episodes"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ConfigError(f"--{name} must be >= 1, got {value}")
    result = evaluate_run(
        args.run_dir, split=args.split, way=args.way, shot=args.shot, query=args.query, episodes=args.episodes,
        episodes_file=args.episodes_file, data_root=args.data_root, device=args.device,
        checkpoint=args.checkpoint or "best", precision=args.precision,
    )
    report(result, args.json)
    return 0


#: options of the episode evaluation that a classification run (scored on every image of a split) refuses
_EPISODE_ONLY = ("way", "shot", "query", "episodes", "episodes_file", "precision")


def _evaluate_classification(args: argparse.Namespace) -> int:
    from ..core.errors import ConfigError
    from ..evaluation.classification import evaluate_classification_run

    for name in _EPISODE_ONLY:
        if getattr(args, name) is not None:
            raise ConfigError(f"--{name.replace('_', '-')} does not apply to {args.run_dir}: a classification run "
                              "is scored on every image of --split (in fp32)")
    result = evaluate_classification_run(args.run_dir, split=args.split, data_root=args.data_root,
                                         device=args.device, checkpoint=args.checkpoint or "last")
    print(result.summary())
    if args.json:
        print(json.dumps(result.payload()))
    return 0


#: a method's ``evaluation_kind`` -> how ``fewshot-nsl eval`` scores its run
EVALUATORS: dict[str, Callable[[argparse.Namespace], int]] = {
    "episodes": _evaluate_episodes, "classification": _evaluate_classification,
}


def evaluation_kind(run_dir: str | Path) -> str:
    """The ``evaluation_kind`` of the method ``run_dir`` was trained with (its ``config.yaml``); ``episodes``
    when the directory says nothing usable (the episode evaluation then names what is wrong with it)."""
    from ..core.errors import FewShotError
    from ..methods import get_method
    from ..runtime.yaml_io import read_yaml

    saved = Path(run_dir) / "config.yaml"
    try:
        name = (read_yaml(saved).get("method") or {}).get("name") if saved.is_file() else None
        return get_method(name).evaluation_kind if name else "episodes"
    except (FewShotError, AttributeError):
        return "episodes"


def run_eval(args: argparse.Namespace) -> int:
    return EVALUATORS[evaluation_kind(args.run_dir)](args)
