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
from ..runtime.device import resolve_device
from ..runtime.precision import resolve_precision
from ..runtime.settings_diff import saved_config
from .budgets import BUDGETS, REFERENCE_ROW, ROWS, Budget, Row
from ..evaluation.result import EvalResult, compare_results, load_result
from ..evaluation.run_eval import result_path
from ..core.stats import CI_FORMULA, tie_aware_ranks
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


def select_rows(methods: Sequence[str] | None) -> list[Row]:
    """The rows named in ``methods`` (row keys or method names), in table order; all when None."""
    if not methods:
        return list(ROWS)
    known = {r.key for r in ROWS} | {r.method for r in ROWS}
    unknown = [m for m in methods if m not in known]
    if unknown:
        raise ConfigError(f"--methods: unknown row {unknown[0]!r} (known: {', '.join(r.key for r in ROWS)})")
    return [r for r in ROWS if r.key in methods or r.method in methods]


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


def _check_reusable(run_dir: Path, config: Config) -> None:
    """A finished run is reused only when it was made with this config (harmless settings aside)."""
    saved = run_dir / "config.yaml"
    if not saved.exists():
        return
    for key, old, new in changed_settings(saved, config, _HARMLESS):
        raise ConfigError(f"{run_dir} was trained with {key}={old!r}, this leaderboard asks for "
                          f"{new!r}; use another --out or delete that row's folder")


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


def _done_info(run_dir: Path) -> dict[str, Any]:
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
    if (run_dir / "DONE").exists():
        _check_reusable(run_dir, config)
        log.info("row %s: reusing the finished run %s", row.key, run_dir)
    else:
        log.info("row %s: training into %s", row.key, run_dir)
        train_fn(config, run_dir, resume=True)
    ef = read_episode_file(episodes_file)
    precision = run_precision(run_dir, device)  # evaluated as trained
    result = _saved_result(run_dir, protocol, ef.sha256, precision)
    if result is None:
        result = eval_fn(run_dir, split=protocol.split, way=protocol.way, shot=protocol.shot, query=protocol.query,
                         episodes=protocol.episodes, episodes_file=str(episodes_file), data_root=data_root,
                         device=device, checkpoint=protocol.checkpoint, precision=precision)
    done = _done_info(run_dir)
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


def compare_rows(entries: list[dict[str, Any]]) -> None:
    """Add tie-aware ranks and the paired difference to the reference row (in place)."""
    results = [e["_result"] for e in entries]
    for i, r in enumerate(results[1:], start=1):
        compare_results(r, results[0], entries[i]["key"], entries[0]["key"])  # raises unless same episodes
    for e, rank in zip(entries, tie_aware_ranks([r.accuracies for r in results])):
        e["rank"] = rank
    reference = next((e for e in entries if e["key"] == REFERENCE_ROW), None)
    for e in entries:
        if reference is None or e is reference:
            e["delta_reference"] = e["delta_reference_ci95"] = None
        else:
            e["delta_reference"], e["delta_reference_ci95"] = compare_results(e["_result"], reference["_result"])


def describe(protocol: Protocol, budget_name: str, budget: Budget, episodes_file: Path, sha: str,
             precisions: Sequence[str] = ()) -> str:
    """The paragraph printed under the table: every protocol setting, the compute precision of the rows (trained
    and evaluated in it) and what the budget shrank."""
    p = protocol
    kinds = sorted(set(precisions))
    precision = (f"Precision: {kinds[0]} (every row). " if len(kinds) == 1 else
                 f"Precision per row (leaderboard.csv, .json): {', '.join(kinds)}. " if kinds else "")
    return (f"{p.dataset}/{p.split}, {p.way}-way {p.shot}-shot {p.query}-query, {p.episodes} fixed episodes "
            f"({episodes_file.name}, sha256 {sha[:12]}), checkpoint '{p.checkpoint}'; accuracy = {CI_FORMULA}. "
            f"Ranks are tie-aware: a row's rank is 1 + the number of rows significantly better than it (paired "
            f"95% CI of the difference excludes zero), so tied rows share a rank and ranks need not be consecutive. "
            f"{precision}Budget '{budget_name}': {budget.description}; shrunk: {budget.shrunk}. "
            f"Paper values: NSL paper, "
            f"Mini-ImageNet 5-way 5-shot (baselines as quoted there).")


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
    precision: str | None = None,
    train_fn: TrainFn | None = None,
    eval_fn: EvalFn | None = None,
) -> list[dict[str, Any]]:
    """Train and evaluate the rows of ``methods`` under ``budget``; write the table files into ``out``.

    Returns the rows (dicts, accuracies as fractions, sorted by rank then accuracy). ``train_fn`` and ``eval_fn``
    default to :func:`fewshot_nsl.experiments.train_run.train` and
    :func:`fewshot_nsl.evaluation.run_eval.evaluate_run`. ``precision`` sets ``train.precision`` of every row
    (default: each row's own, ``auto`` unless its preset or budget says otherwise); each row is evaluated in the
    precision it was trained in.
    """
    if budget not in BUDGETS:
        raise ConfigError(f"unknown budget {budget!r} (known: {', '.join(BUDGETS)})")
    if train_fn is None:
        from .train_run import train as train_fn
    if eval_fn is None:
        from ..evaluation.run_eval import evaluate_run as eval_fn
    b, out = BUDGETS[budget], Path(out)
    protocol = Protocol(dataset, b.eval_split, way, shot, query, b.eval_episodes, b.checkpoint)
    rows = select_rows(methods)
    # every config is resolved (and every error raised) before any training
    configs = [row_config(r, b, dataset, data_root, device, progress, precision) for r in rows]
    episodes_file = episodes_file_for(protocol, out, data_root)
    entries = [run_row(r, c, out / r.key, protocol, episodes_file, data_root, device, train_fn, eval_fn)
               for r, c in zip(rows, configs)]
    compare_rows(entries)
    entries.sort(key=lambda e: (e["rank"], -e["accuracy"]))
    for e in entries:
        e.pop("_result")
    note = describe(protocol, budget, b, episodes_file, read_episode_file(episodes_file).sha256,
                    [e["precision"] for e in entries])
    write_outputs(entries, out, note, f"{dataset} {way}-way {shot}-shot, budget {budget}")
    return entries


def write_outputs(entries: list[dict[str, Any]], out: Path, note: str, title: str) -> None:
    """``leaderboard.md``, ``.csv``, ``.json`` and (with matplotlib) ``.png`` under ``out``."""
    atomic_write_text(out / "leaderboard.md", f"{markdown_table(entries, REFERENCE_ROW)}\n\n{note}\n")
    atomic_write_text(out / "leaderboard.csv", csv_text(entries))
    atomic_write_text(out / "leaderboard.json", json.dumps(json_rows(entries), indent=1) + "\n")
    try:
        from ..evaluation.plots import plot_leaderboard

        plot_leaderboard(entries, out / "leaderboard.png", title)
    except FewShotError as exc:
        log.warning("no leaderboard.png: %s", exc)
