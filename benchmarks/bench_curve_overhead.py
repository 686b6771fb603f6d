"""Cost of learning-curve validation: one validation against the training it interrupts, per row of a budget.

For each row, a Trainer is built from the budget's config; train steps and validations are timed *interleaved*
(train k episodes, validate, repeated), so a loaded machine slows both alike. The overhead is
``t(one validation) / t(val_every training episodes)``: the fraction by which validating every ``val_every``
episodes lengthens training. Prints one JSON line per row.

    OMP_NUM_THREADS=1 python benchmarks/bench_curve_overhead.py --budget equal-5k --dataset mini-imagenet \\
        --rows protonet dynamic-cnn4 maml --train-episodes 20 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from fewshot_nsl.evaluation.evaluator import episode_accuracies
from fewshot_nsl.experiments.budgets import BUDGETS, ROWS
from fewshot_nsl.experiments.leaderboard import row_config
from fewshot_nsl.training.trainer import Trainer


def measure(row, budget, dataset: str, train_episodes: int, rounds: int) -> dict:
    config = row_config(row, budget, dataset, None, "cpu", False)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(config, Path(tmp) / row.key, validator=episode_accuracies, resume=False)
        stream = trainer._stream()
        trainer._train_step(stream)  # warm-up: first calls build oneDNN primitives
        trainer.validate()
        train_s = val_s = 0.0
        steps = max(1, train_episodes // trainer.global_batch)
        for _ in range(rounds):
            start = time.perf_counter()
            for _ in range(steps):
                trainer._train_step(stream)
            train_s += time.perf_counter() - start
            start = time.perf_counter()
            trainer.validate()
            val_s += time.perf_counter() - start
    per_episode = train_s / (rounds * steps * trainer.global_batch)
    per_validation = val_s / rounds
    c = config.train
    return {"row": row.key, "train_s_per_episode": round(per_episode, 4), "val_every": c.val_every,
            "val_episodes": c.val_episodes, "validation_s": round(per_validation, 3),
            "overhead_pct": round(100 * per_validation / (c.val_every * per_episode), 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="equal-5k")
    parser.add_argument("--dataset", default="mini-imagenet")
    parser.add_argument("--rows", nargs="+", default=None)
    parser.add_argument("--train-episodes", type=int, default=20, help="training episodes timed per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    budget = BUDGETS[args.budget]
    rows = [r for r in (budget.rows or ROWS) if args.rows is None or r.key in args.rows]
    for row in rows:
        print(json.dumps(measure(row, budget, args.dataset, args.train_episodes, args.rounds)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
