"""Reproduce the paper's table: train every row (or reuse it), evaluate all rows on the same fixed episodes.

Layout of ``out``: ``<row key>/`` (a run directory per row), ``episodes/`` (the evaluation episodes when no
standard file exists), ``leaderboard.md``, ``leaderboard.csv``, ``leaderboard.json`` and, with matplotlib,
``leaderboard.png``. A killed run picks up where it stopped: finished rows (``DONE``) are reused, a partial row
resumes from its last checkpoint, and an evaluation already saved for the same checkpoint and episodes is reused.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..episodes.files import (
    SplitLabels,
    episode_file_name,
    make_episode_file,
    read_episode_file,
    standard_episode_file,
)
from ..core.errors import ConfigError, FewShotError
from ..core.atomic import atomic_write_text
from ..runtime.config import RESUMABLE_CHANGES, Config, changed_settings, resolve_config
from .budgets import BUDGETS, REFERENCE_ROW, ROWS, Budget, Row
from ..runtime.device import resolve_device
from ..runtime.precision import resolve_precision
from ..runtime.settings_diff import saved_config
from ..evaluation.result import EvalResult, load_result
from ..evaluation.run_eval import result_path
from ..core.stats import CI_FORMULA
from .jobs import run_jobs
from .seeded import SEEDS_NOTE, combine_seeds, compare_seeded
from .table import csv_text, json_rows, markdown_table

log = logging.getLogger(__name__)

TrainFn = Callable[..., Path]   # train(config, out_dir, resume=True) -> run dir
EvalFn = Callable[..., EvalResult]  # evaluate_run(run_dir, split=..., ..., checkpoint=...) -> EvalResult (fractions)
#: settings that may differ between a finished run and the config asked for now (they change nothing computed)
#: (the trainer's resumable changes, except the training length, which a finished row must match)
_HARMLESS = RESUMABLE_CHANGES - {"train.episodes"}


@dataclass(frozen=True)
class Protocol:
    """The evaluation every row gets."""

    dataset: str
    split: str
    way: int
    shot: int
    query: int
    episodes: int
    checkpoint: str


def select_rows(methods: Sequence[str] | None, table: Sequence[Row] = ROWS) -> list[Row]:
    """The rows of ``table`` named in ``methods``, in table order; all when None.

    A name is a row key, or a method name that is no row's key (then every row of that method: ``dynamic``).
    """
    if not methods:
        return list(table)
    known = {r.key for r in table} | {r.method for r in table}
    unknown = [m for m in methods if m not in known]
    if unknown:
        raise ConfigError(f"--methods: unknown row {unknown[0]!r} (known: {', '.join(r.key for r in table)})")
    keys = {r.key for r in table}
    return [r for r in table if r.key in methods or (r.method in methods and r.method not in keys)]


def row_config(row: Row, budget: Budget, dataset: str, data_root: str | None, device: str,
               progress: bool, precision: str | None = None) -> Config:
    """The resolved config of ``row`` under ``budget``: preset <- dataset flags <- row <- budget overrides
    <- ``precision`` (``train.precision`` for every row, when given)."""
    from ..data import DATASETS

    overrides = [*row.overrides, *budget.overrides, *budget.row_overrides.get(row.key, ())]
    if budget.max_image_size is not None:
        size = min(DATASETS.get(dataset).default_image_size, budget.max_image_size)
        overrides.append(f"data.image_size={size}")
    flags = {"data": {"dataset": dataset, "data_root": data_root}, "train": {"device": device, "progress": progress}}
    if precision is not None:
        overrides.append(f"train.precision={precision}")
    return resolve_config(row.method, flags=flags, overrides=overrides)


def run_precision(run_dir: Path, device: str) -> str:
    """The precision ``run_dir`` was trained in (its ``config.yaml``, resolved on ``device`` if it says auto):
    the one its evaluation runs in."""
    return resolve_precision(saved_config(run_dir / "config.yaml").train.precision, resolve_device(device))


def check_reusable(run_dir: Path, config: Config) -> None:
    """A finished run is reused only when it was made with this config (harmless settings aside)."""
    saved = run_dir / "config.yaml"
    if not saved.exists():
        return
    for key, old, new in changed_settings(saved, config, _HARMLESS):
        raise ConfigError(f"{run_dir} was trained with {key}={old!r}, this leaderboard asks for "
                          f"{new!r}; use another --out or delete that row's folder")


def train_or_reuse(key: str, config: Config, run_dir: Path, train_fn: TrainFn) -> None:
    """Reuse the finished run in ``run_dir`` (after :func:`check_reusable`), else train (or resume) it there."""
    if (run_dir / "DONE").exists():
        check_reusable(run_dir, config)
        log.info("row %s: reusing the finished run %s", key, run_dir)
    else:
        log.info("row %s: training into %s", key, run_dir)
        train_fn(config, run_dir, resume=True)


def episodes_file_for(protocol: Protocol, out: Path, data_root: str | None) -> Path:
    """The standard episodes file for ``protocol``, else one made (once) under ``out/episodes``."""
    p = protocol
    standard = standard_episode_file(p.dataset, p.split, p.way, p.shot, p.query, p.episodes)
    if standard is not None:
        return standard
    path = out / "episodes" / episode_file_name(p.dataset, p.split, p.way, p.shot, p.query, p.episodes)
    if not path.exists():
        labels = SplitLabels.read(p.dataset, p.split, data_root)
        make_episode_file(labels, p.way, p.shot, p.query, p.episodes, 0, path)
    return path


def _saved_result(run_dir: Path, protocol: Protocol, file_sha: str, precision: str) -> EvalResult | None:
    path = result_path(run_dir, protocol.split, protocol.way, protocol.shot)
    done = run_dir / "DONE"
    if not path.exists() or not done.exists() or path.stat().st_mtime < done.stat().st_mtime:
        return None
    try:
        result = load_result(path)
    except FewShotError as exc:  # e.g. a version-1 file in percent: evaluated again, never mixed with fractions
        log.info("not reusing %s: %s", path, exc)
        return None
    p = result.protocol
    same = (p.get("episodes_file_sha256") == file_sha and Path(str(p.get("checkpoint", ""))).stem
            == protocol.checkpoint and result.query == protocol.query and p.get("precision") == precision)
    return result if same else None


def done_info(run_dir: Path) -> dict[str, Any]:
    try:
        info = json.loads((run_dir / "DONE").read_text() or "{}")
    except (OSError, json.JSONDecodeError):
        return {}
    return info if isinstance(info, dict) else {}


def _paper(row: Row, protocol: Protocol) -> float | None:
    """The paper's accuracy of ``row`` as a fraction, only for the task it reports (Mini-ImageNet 5-way 5-shot)."""
    if row.paper is None or (protocol.dataset, protocol.way, protocol.shot) != ("mini-imagenet", 5, 5):
        return None
    return row.paper / 100.0  # quoted in percent in budgets.ROWS


def run_row(row: Row, config: Config, run_dir: Path, protocol: Protocol, episodes_file: Path,
            data_root: str | None, device: str, train_fn: TrainFn, eval_fn: EvalFn) -> dict[str, Any]:
    """Train (or reuse) and evaluate one row; its table entry (fractions) with the result under ``"_result"``."""
    train_or_reuse(row.key, config, run_dir, train_fn)
    ef = read_episode_file(episodes_file)
    precision = run_precision(run_dir, device)  # evaluated as trained
    result = _saved_result(run_dir, protocol, ef.sha256, precision)
    if result is None:
        result = eval_fn(run_dir, split=protocol.split, way=protocol.way, shot=protocol.shot, query=protocol.query,
                         episodes=protocol.episodes, episodes_file=str(episodes_file), data_root=data_root,
                         device=device, checkpoint=protocol.checkpoint, precision=precision)
    done = done_info(run_dir)
    return {
        "key": row.key, "label": row.label, "method": config.method_name, "backbone": config.model.backbone,
        "nsl": config.model.nsl, "way": result.way, "shot": result.shot, "query": result.query,
        "train_way": config.task.way, "accuracy": result.mean, "ci95": result.ci95,
        "paper": _paper(row, protocol),
        "parameters": int(result.protocol.get("parameters", 0)),
        "train_episodes": int(done.get("episodes", config.train.episodes)),
        "image_size": result.protocol.get("image_size"), "wall_s": done.get("wall_s"), "run_dir": str(run_dir),
        "precision": result.protocol.get("precision", precision),
        "_result": result,
    }


def describe(protocol: Protocol, budget_name: str, budget: Budget, episodes_file: Path, sha: str,
             precisions: Sequence[str] = ()) -> str:
    """The paragraph printed under the table: every protocol setting, the compute precision of the rows (trained
    and evaluated in it) and what the budget shrank."""
    kinds = sorted(set(precisions))
    precision = (f"Precision: {kinds[0]} (every row). " if len(kinds) == 1 else
                 f"Precision per row (leaderboard.csv, .json): {', '.join(kinds)}. " if kinds else "")
    p = protocol
    return (f"{p.dataset}/{p.split}, {p.way}-way {p.shot}-shot {p.query}-query, {p.episodes} fixed episodes "
            f"({episodes_file.name}, sha256 {sha[:12]}), checkpoint '{p.checkpoint}'; accuracy = {CI_FORMULA}. "
            f"Ranks are tie-aware: a row's rank is 1 + the number of rows significantly better than it (paired "
            f"95% CI of the difference excludes zero), so tied rows share a rank and ranks need not be consecutive. "
            f"{precision}Budget '{budget_name}': {budget.description}; shrunk: {budget.shrunk}. "
            f"Paper values: NSL paper, Mini-ImageNet 5-way 5-shot (baselines as quoted there). {SEEDS_NOTE}")


def run_leaderboard(
    dataset: str,
    budget: str,
    out: str | Path,
    data_root: str | None = None,
    methods: Sequence[str] | None = None,
    device: str = "auto",
    way: int = 5,
    shot: int = 5,
    query: int = 15,
    progress: bool = True,
    train_fn: TrainFn | None = None,
    eval_fn: EvalFn | None = None,
    precision: str | None = None,
    seeds: Sequence[int] | None = None,
    shard: tuple[int, int] | None = None,
    reference: str = REFERENCE_ROW,
) -> list[dict[str, Any]]:
    """Train and evaluate the rows of ``methods`` under ``budget``, once per seed; write the table files into ``out``.

    Returns the rows (dicts, accuracies as fractions, sorted by rank then accuracy). ``train_fn`` and ``eval_fn``
    default to :func:`fewshot_nsl.experiments.train_run.train` and
    :func:`fewshot_nsl.evaluation.run_eval.evaluate_run`. ``seeds`` None: each row's own seed, one run each.
    With ``shard`` (I, N) only the jobs of that shard (:mod:`.jobs`) are trained and evaluated, no table is
    written, and their per-seed entries are returned. ``precision`` sets ``train.precision`` of every row
    (default: each row's own, ``auto`` unless its preset or budget says otherwise); each row is evaluated in the
    precision it was trained in. ``reference``: the row every other row's paired difference is taken to (one of
    the rows run; with shards only checked, as the shards write no table).
    """
    if budget not in BUDGETS:
        raise ConfigError(f"unknown budget {budget!r} (known: {', '.join(BUDGETS)})")
    if train_fn is None:
        from .train_run import train as train_fn
    if eval_fn is None:
        from ..evaluation.run_eval import evaluate_run as eval_fn
    b, out = BUDGETS[budget], Path(out)
    protocol = Protocol(dataset, b.eval_split, way, shot, query, b.eval_episodes, b.checkpoint)
    rows = select_rows(methods, b.rows or ROWS)
    check_reference(reference, [r.key for r in rows], reference != REFERENCE_ROW)
    # every config is resolved (and every error raised) before any training
    configs = [row_config(r, b, dataset, data_root, device, progress, precision) for r in rows]
    episodes_file = episodes_file_for(protocol, out, data_root)
    by_key = {r.key: r for r in rows}

    def run_one(key: str, config: Config, run_dir: Path) -> dict[str, Any]:
        return run_row(by_key[key], config, run_dir, protocol, episodes_file, data_root, device, train_fn, eval_fn)

    per_row = run_jobs({r.key: c for r, c in zip(rows, configs)}, out, seeds, shard, run_one)
    if shard is not None:  # the unsharded command assembles the table once every shard has finished
        return [{k: v for k, v in e.items() if k != "_result"} for es in per_row.values() for e in es]
    entries = [combine_seeds(per_row[r.key]) for r in rows]
    compare_seeded(entries, reference)
    entries.sort(key=lambda e: (e["rank"], -e["accuracy"]))
    for e in entries:
        e.pop("_results")
    note = describe(protocol, budget, b, episodes_file, read_episode_file(episodes_file).sha256,
                    [e["precision"] for e in entries])
    write_outputs(entries, out, note, f"{dataset} {way}-way {shot}-shot, budget {budget}", reference)
    return entries


def check_reference(reference: str, keys: Sequence[str], chosen: bool) -> None:
    """A reference row the user chose must be one of the rows run (the default may be absent: no deltas then)."""
    if chosen and reference not in keys:
        raise ConfigError(f"--reference {reference!r} is not one of the rows run ({', '.join(keys)})")


def write_outputs(entries: list[dict[str, Any]], out: Path, note: str, title: str,
                  reference: str = REFERENCE_ROW) -> None:
    """The few-shot table's ``leaderboard.md``, ``.csv``, ``.json`` and (with matplotlib) ``.png`` under ``out``."""
    from ..evaluation.plots import plot_leaderboard

    write_table_files(out, f"{markdown_table(entries, reference)}\n\n{note}\n", csv_text(entries),
                      json_rows(entries), lambda path: plot_leaderboard(entries, path, title))


def write_table_files(out: Path, markdown: str, csv: str, items: list[dict[str, Any]],
                      plot: Callable[[Path], Any]) -> None:
    """Any table's ``leaderboard.md``, ``.csv``, ``.json`` under ``out``, and ``plot(out/leaderboard.png)``
    (skipped with a warning when it raises a FewShotError: no matplotlib)."""
    atomic_write_text(out / "leaderboard.md", markdown)
    atomic_write_text(out / "leaderboard.csv", csv)
    atomic_write_text(out / "leaderboard.json", json.dumps(items, indent=1) + "\n")
    try:
        plot(out / "leaderboard.png")
    except FewShotError as exc:
        log.warning("no leaderboard.png: %s", exc)
