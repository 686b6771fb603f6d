"""An error table (the paper's CIFAR table): train every row per seed (or reuse it), score each on a whole test split.

The row x seed jobs, their run directories, sharding, the reuse of finished rows and the resumption of partial
ones are the few-shot leaderboard's (:func:`~fewshot_nsl.experiments.jobs.run_jobs`,
:func:`~fewshot_nsl.experiments.leaderboard.check_reusable`); only the scoring differs: top-1 error on every image
of the split (:mod:`fewshot_nsl.evaluation.classification`), compared with the reference image by image
(:mod:`.error_stats`). Layout of ``out``: ``<row key>/`` (or ``<row key>/seed-N/``), ``leaderboard.md``,
``.csv``, ``.json`` and, with matplotlib, ``.png``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..core.errors import ConfigError, FewShotError
from ..evaluation.classification import ClassificationResult, load_classification_result, result_path
from ..runtime.config import Config
from .budgets import Budget
from .cifar_rows import ErrorRow
from .error_render import csv_text, json_rows, markdown_table
from .error_stats import ERROR_STATS_NOTE, combine_error_seeds, compare_errors
from .jobs import run_jobs
from .leaderboard import (TrainFn, done_info, row_config, run_precision, select_rows, train_or_reuse,
                          write_table_files)

log = logging.getLogger(__name__)

#: evaluate(run_dir, split=..., data_root=..., device=..., checkpoint=...) -> ClassificationResult (fractions)
ClassifyFn = Callable[..., ClassificationResult]


def _saved_result(run_dir: Path, split: str, checkpoint: str) -> ClassificationResult | None:
    """The saved evaluation of ``run_dir`` when it scored this checkpoint after training finished, image by image."""
    path, done = result_path(run_dir, split), run_dir / "DONE"
    if not path.exists() or path.stat().st_mtime < done.stat().st_mtime:
        return None
    try:
        result = load_classification_result(path)
    except FewShotError as exc:
        log.info("not reusing %s: %s", path, exc)
        return None
    same = (Path(str(result.protocol.get("checkpoint", ""))).stem == checkpoint
            and len(result.top1_wrong) == result.images and result.protocol.get("images_sha256"))
    return result if same else None


def score_row(row: ErrorRow, config: Config, run_dir: Path, budget: Budget, paper_column: str,
              data_root: str | None, device: str, train_fn: TrainFn, eval_fn: ClassifyFn) -> dict[str, Any]:
    """Train (or reuse) and score one row with one seed; its entry (fractions), the result under ``"_result"``."""
    train_or_reuse(row.key, config, run_dir, train_fn)
    result = _saved_result(run_dir, budget.eval_split, budget.checkpoint)
    if result is None:
        result = eval_fn(run_dir, split=budget.eval_split, data_root=data_root, device=device,
                         checkpoint=budget.checkpoint)
    done, paper = done_info(run_dir), row.paper_error.get(paper_column)
    return {
        "key": row.key, "label": row.label, "method": config.method_name, "backbone": config.model.backbone,
        "nsl": config.model.nsl, "param": config.model.param, "dataset": config.data.dataset,
        "paper_column": paper_column, "paper": None if paper is None else paper / 100.0,
        "images": result.images, "parameters": int(result.protocol.get("parameters", 0)),
        "train_iterations": int(done.get("episodes", config.train.episodes)),
        "batch_size": config.train.batch_size, "image_size": result.protocol.get("image_size"),
        "precision": run_precision(run_dir, device), "wall_s": done.get("wall_s"), "run_dir": str(run_dir),
        "_result": result,
    }


def describe(dataset: str, budget_name: str, budget: Budget, paper_column: str, images: int) -> str:
    """The paragraph under the table: protocol, statistics, budget and where the paper column comes from."""
    stand_in = "" if paper_column == dataset else (
        f" {dataset} is a stand-in of {paper_column}'s shape, not {paper_column}: compare the rows' ordering with "
        "the paper's, not their level.")
    return (f"{dataset}/{budget.eval_split}: top-1 / top-5 error on all {images:,} images, checkpoint "
            f"'{budget.checkpoint}' (no selection on the test images), each row trained in the precision listed in "
            f"leaderboard.csv and scored in fp32. {ERROR_STATS_NOTE} Budget '{budget_name}': {budget.description}; "
            f"shrunk: {budget.shrunk}. Paper values: NSL paper, generic recognition, {paper_column} test error; "
            "its parameterisation numbers (shared 7.20 against disjoint 6.85) are read as CIFAR-10 ones "
            f"(experiments/cifar_rows.py).{stand_in}")


def run_error_table(
    dataset: str,
    budget: str,
    out: str | Path,
    *,
    rows: Sequence[ErrorRow],
    reference: str,
    budgets: Mapping[str, Budget],
    paper_columns: Mapping[str, str],
    data_root: str | None = None,
    methods: Sequence[str] | None = None,
    device: str = "auto",
    progress: bool = True,
    train_fn: TrainFn | None = None,
    eval_fn: ClassifyFn | None = None,
    precision: str | None = None,
    seeds: Sequence[int] | None = None,
    shard: tuple[int, int] | None = None,
) -> list[dict[str, Any]]:
    """Train and score ``rows`` (those named in ``methods``) under ``budgets[budget]``, once per seed; write the
    table files into ``out``. Returns the rows sorted by rank then error (fractions); with ``shard`` (I, N) only
    that shard's jobs run, no table is written and their per-seed entries are returned.

    ``train_fn`` and ``eval_fn`` default to :func:`fewshot_nsl.experiments.train_run.train` and
    :func:`fewshot_nsl.evaluation.classification.evaluate_classification_run`.
    """
    if budget not in budgets:
        raise ConfigError(f"unknown budget {budget!r} for this table (known: {', '.join(budgets)})")
    if dataset not in paper_columns:
        raise ConfigError(f"--dataset {dataset!r} has no column in this table (known: {', '.join(paper_columns)})")
    if train_fn is None:
        from .train_run import train as train_fn
    if eval_fn is None:
        from ..evaluation.classification import evaluate_classification_run as eval_fn
    b, out, column = budgets[budget], Path(out), paper_columns[dataset]
    chosen = select_rows(methods, b.rows or tuple(rows))
    # every config is resolved (and every error raised) before any training
    configs = {r.key: row_config(r, b, dataset, data_root, device, progress, precision) for r in chosen}
    by_key = {r.key: r for r in chosen}

    def run_one(key: str, config: Config, run_dir: Path) -> dict[str, Any]:
        return score_row(by_key[key], config, run_dir, b, column, data_root, device, train_fn, eval_fn)

    per_row = run_jobs(configs, out, seeds, shard, run_one)
    if shard is not None:  # the unsharded command assembles the table once every shard has finished
        return [{k: v for k, v in e.items() if k != "_result"} for es in per_row.values() for e in es]
    entries = [combine_error_seeds(per_row[r.key]) for r in chosen]
    compare_errors(entries, reference)
    entries.sort(key=lambda e: (e["rank"], e["error"]))
    for e in entries:
        e.pop("_results")
    note = describe(dataset, budget, b, column, entries[0]["images"] if entries else 0)
    title = f"{dataset} test error, budget {budget}"
    paper_title = f"paper {column}" if column == dataset else f"paper ({column}, for the ordering)"
    plot_rows = [{"label": e["label"], "backbone": e["nsl"], "accuracy": e["error"], "ci95": e["error_ci95"],
                  "seed_accuracies": e["seed_errors"], "paper": e["paper"]} for e in entries]

    def plot(path: Path) -> Any:
        from ..evaluation.plots import plot_leaderboard

        return plot_leaderboard(plot_rows, path, title, xlabel="top-1 test error (%)")

    write_table_files(out, f"{markdown_table(entries, reference, paper_title)}\n\n{note}\n", csv_text(entries),
                      json_rows(entries), plot)
    return entries
