"""``fewshot-nsl train``: resolve the config, train (resuming when the run exists), then evaluate."""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict

#: CLI flag -> (config key, type); only flags the user gives override the config
FLAG_KEYS = {
    "dataset": ("data.dataset", str), "data_root": ("data.data_root", str), "image_size": ("data.image_size", int),
    "num_workers": ("data.num_workers", int), "backbone": ("model.backbone", str), "nsl": ("model.nsl", str),
    "param": ("model.param", str), "episodes": ("train.episodes", int), "way": ("task.way", int),
    "shot": ("task.shot", int), "query": ("task.query", int), "seed": ("train.seed", int),
    "meta_batch": ("train.meta_batch", int), "lr": ("optim.lr", float), "val_every": ("train.val_every", int),
    "val_episodes": ("train.val_episodes", int), "device": ("train.device", str),
    "precision": ("train.precision", str),
}
#: help of the flags above and below that need more than their name
FLAG_HELP = {
    "precision": "compute precision: auto (bf16 where the hardware runs it natively, else fp32), fp32, bf16 or "
                 "fp16 (with loss scaling); the resolved one is saved in config.yaml",
    "amp": "deprecated: fp16 autocast on CUDA only, as before (use --precision fp16); ignored with --precision",
    "skip_missing_eval": "train even when the final-evaluation split (eval.split) is missing, skipping that "
                         "evaluation (default: refuse the run before its first step)",
    "tensorboard": "also write the metrics as TensorBoard scalars into RUN_DIR/tensorboard/ (needs the "
                   "'tensorboard' extra)",
}
SWITCHES = {
    "learn_shape": "model.learn_shape", "plain_first_layer": "model.plain_first_layer", "amp": "train.amp",
    "no_augment": "data.augment", "no_progress": "train.progress", "skip_missing_eval": "eval.skip_if_missing",
    "tensorboard": "train.tensorboard",
}


def _nested(key: str, value: Any, into: Dict[str, Any]) -> None:
    node = into
    *parents, last = key.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


def flags_to_dict(args: argparse.Namespace) -> Dict[str, Any]:
    """The config values the user gave as flags, as a nested dict."""
    out: Dict[str, Any] = {}
    for flag, (key, _) in FLAG_KEYS.items():
        value = getattr(args, flag, None)
        if value is not None:
            _nested(key, value, out)
    for flag, key in SWITCHES.items():
        if getattr(args, flag, False):
            _nested(key, not flag.startswith("no_"), out)
    return out


def add_parser(subparsers: Any) -> None:
    from ..methods import method_names  # the registry is the list of methods

    p = subparsers.add_parser("train", help="train a few-shot model (resumes an existing run directory)")
    p.add_argument("--method", default=None,
                   help=f"{', '.join(method_names())} (default: from --config, else protonet)")
    p.add_argument("--config", default=None, help="a YAML config (e.g. RUN_DIR/config.yaml to repeat a run)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override any config key, e.g. --set optim.lr=5e-4 (repeatable)")
    p.add_argument("--out", default=None, help="run directory (default: runs/<method>-<dataset>)")
    for flag, (_, kind) in FLAG_KEYS.items():
        p.add_argument("--" + flag.replace("_", "-"), dest=flag, type=kind, default=None, help=FLAG_HELP.get(flag))
    for flag in SWITCHES:
        p.add_argument("--" + flag.replace("_", "-"), dest=flag, action="store_true", help=FLAG_HELP.get(flag))
    p.add_argument("--no-resume", dest="resume", action="store_false",
                   help="start afresh even if the run directory holds a checkpoint")
    p.add_argument("--resume", dest="resume", action="store_true", default=True,
                   help="continue the run in --out (the default)")
    p.add_argument("--nproc", type=int, default=None, help="train with N processes via torchrun (DDP)")
    p.add_argument("--no-eval", dest="evaluate", action="store_false", help="skip the final evaluation")
    p.add_argument("--json", action="store_true", help="print the evaluation as one JSON object on the last line")
    p.set_defaults(func=run_train)


def _launch_torchrun(nproc: int) -> int:
    argv = sys.argv[1:]
    cleaned = []
    skip = False
    for i, token in enumerate(argv):
        if skip:
            skip = False
            continue
        if token == "--nproc":
            skip = True
            continue
        if token.startswith("--nproc="):
            continue
        cleaned.append(token)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
           "-m", "fewshot_nsl", *cleaned]
    return subprocess.call(cmd)


def run_train(args: argparse.Namespace) -> int:
    from ..core.errors import ConfigError
    from ..runtime.config import resolve_config
    from ..experiments.train_run import train
    from ..training.preflight import check_final_eval

    if args.nproc is not None:
        if args.nproc < 1:
            raise ConfigError(f"--nproc must be >= 1, got {args.nproc}")
        if "WORLD_SIZE" not in os.environ and args.nproc > 1:
            return _launch_torchrun(args.nproc)
    if getattr(args, "amp", False):
        logging.getLogger(__name__).warning(
            "--amp is deprecated: it means fp16 autocast on CUDA and nothing elsewhere; use --precision fp16 (or bf16)")
    config = resolve_config(args.method, args.config, flags_to_dict(args), args.overrides)
    out = Path(args.out or f"runs/{config.method_name}-{config.data.dataset}")
    # the final evaluation's split and episodes are checked before the first training step, not after the last
    evaluate = args.evaluate and check_final_eval(config)
    run_dir = train(config, out, resume=args.resume)
    rank = int(os.environ.get("RANK", "0"))
    if not evaluate or rank != 0:
        return 0
    from ..methods import get_method

    FINAL_EVALUATIONS[get_method(config.method_name).evaluation_kind](run_dir, config, args.json)
    return 0


def _evaluate_episodes(run_dir: Path, config: Any, as_json: bool) -> None:
    """Few-shot accuracy of the best checkpoint on the fixed test episodes."""
    from .evaluate import report
    from ..evaluation.run_eval import evaluate_run

    report(evaluate_run(run_dir, data_root=config.data.data_root, device=config.train.device), as_json)


def _evaluate_classification(run_dir: Path, config: Any, as_json: bool) -> None:
    """Top-1 / top-5 error (95% Wilson intervals) of the last checkpoint on the whole test split."""
    import json

    from ..evaluation.classification import evaluate_classification_run

    result = evaluate_classification_run(run_dir, data_root=config.data.data_root, device=config.train.device)
    print(result.summary())
    if as_json:
        print(json.dumps(result.payload()))


#: a method's ``evaluation_kind`` -> the final evaluation of its run (prints it; ``--json``: one JSON last line)
FINAL_EVALUATIONS = {"episodes": _evaluate_episodes, "classification": _evaluate_classification}
