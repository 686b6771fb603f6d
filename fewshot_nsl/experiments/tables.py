"""The tables ``fewshot-nsl leaderboard --table NAME`` reproduces: a name -> :class:`TableSpec` dict.

A table is a named set of rows, a reference row, its compute budgets, the task options it takes, and how it is
run and scored (its ``run`` function, which knows how a row is scored and which paper column a dataset shows).
Add a table by adding an entry; the CLI reads everything it offers from here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .budgets import BUDGETS, REFERENCE_ROW, ROWS, Budget, Row
from .cifar_rows import CIFAR_BUDGETS, CIFAR_REFERENCE, CIFAR_ROWS, PAPER_COLUMN
from .error_table import run_error_table
from .leaderboard import run_leaderboard


@dataclass(frozen=True)
class TableSpec:
    """One reproducible table.

    Attributes:
        description: one line for ``--help``.
        rows: the paper's rows, in table order (a budget may bring its own, :attr:`Budget.rows`).
        reference: the row every other row is compared with.
        budgets: name -> :class:`Budget`.
        default_dataset: the dataset when ``--dataset`` is not given.
        task_options: the task flags it takes (``way``, ``shot``, ``query``); others are refused.
        run: ``run(dataset, budget, out, *, data_root, methods, device, progress, precision, seeds, shard,
            train_fn, eval_fn, **task options)`` -> rows (fractions); writes ``out/leaderboard.{md,csv,json,png}``.
    """

    description: str
    rows: tuple[Row, ...]
    reference: str
    budgets: Mapping[str, Budget]
    default_dataset: str
    task_options: tuple[str, ...]
    run: Callable[..., list[dict[str, Any]]]


TABLES: dict[str, TableSpec] = {
    "fewshot": TableSpec(
        description="NSL paper, Mini-ImageNet 5-way 5-shot: accuracy on fixed episodes",
        rows=ROWS, reference=REFERENCE_ROW, budgets=BUDGETS, default_dataset="mini-imagenet",
        task_options=("way", "shot", "query"), run=run_leaderboard,
    ),
    "cifar": TableSpec(
        description="NSL paper, generic recognition (CIFAR-10/100, 9-layer CNN): top-1 error on the test split",
        rows=CIFAR_ROWS, reference=CIFAR_REFERENCE, budgets=CIFAR_BUDGETS, default_dataset="cifar10",
        task_options=(),
        run=functools.partial(run_error_table, rows=CIFAR_ROWS, reference=CIFAR_REFERENCE, budgets=CIFAR_BUDGETS,
                              paper_columns=PAPER_COLUMN),
    ),
}
