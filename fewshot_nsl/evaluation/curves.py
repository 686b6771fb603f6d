"""Learning curves of a leaderboard directory: each row's validation accuracy over training, across its seeds.

Read from files only: ``leaderboard.json`` names the rows and their run directories (``run_dirs``, one per
seed); without it (a study whose shards are still running) every ``ROW/metrics.jsonl`` and
``ROW/seed-N/metrics.jsonl`` under the directory is a curve. Each run's ``metrics.jsonl`` validation records
give the points: ``episode``, ``val_accuracy`` (a fraction) and ``wall_s`` (the run's wall clock there).
In such a scan a row whose seeds have partly finished (``DONE``) is drawn from its finished seeds only: a seed
still training would cut every seed's curve off at its own progress (a row is compared at the training episodes
all its seeds validated at); a row with no finished seed is drawn from every seed, to show a study's progress.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.errors import DataError
from .plots import read_metrics

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RowCurve:
    """One row's curve over ``n`` seeds at the ``k`` training episodes every seed validated at.

    ``mean``, ``low``, ``high``: (k,) validation accuracy (fractions): mean, min and max over seeds.
    ``wall_s``: (k,) mean wall-clock seconds at those points, None when a run did not record it.
    """

    key: str
    label: str
    seeds: int
    episodes: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    wall_s: np.ndarray | None


def is_leaderboard_dir(path: str | Path) -> bool:
    """True for a leaderboard ``--out`` folder: ``leaderboard.json``, or row runs below it and none in it."""
    path = Path(path)
    if not path.is_dir() or (path / "metrics.jsonl").exists():
        return False
    return (path / "leaderboard.json").exists() or any(
        (row / "metrics.jsonl").exists() or any(row.glob("seed-*/metrics.jsonl")) for row in path.iterdir()
        if row.is_dir())


def _scan(lb_dir: Path) -> list[tuple[str, str, list[Path]]]:
    rows = []
    for row in sorted(p for p in lb_dir.iterdir() if p.is_dir()):
        runs = [row] if (row / "metrics.jsonl").exists() else []
        runs += sorted(p for p in row.glob("seed-*") if (p / "metrics.jsonl").exists())
        finished = [r for r in runs if (r / "DONE").exists()]
        if finished and len(finished) < len(runs):
            logger.info("row %s: %d of its %d seeds still training, left out of its curve", row.name,
                        len(runs) - len(finished), len(runs))
            runs = finished
        if runs:
            rows.append((row.name, row.name, runs))
    return rows


def _resolve(lb_dir: Path, recorded: str) -> Path:
    """A run directory as recorded, else the same tail under ``lb_dir`` (a leaderboard folder that was moved)."""
    path = Path(recorded)
    for candidate in (path, lb_dir / path.parent.name / path.name, lb_dir / path.name):
        if (candidate / "metrics.jsonl").exists():
            return candidate
    raise DataError(f"{lb_dir}/leaderboard.json names run {recorded}, which holds no metrics.jsonl")


def leaderboard_rows(lb_dir: Path) -> list[tuple[str, str, list[Path]]]:
    """(row key, label, run directories one per seed) of every row of the leaderboard folder, in table order."""
    table = lb_dir / "leaderboard.json"
    if not table.exists():
        return _scan(lb_dir)
    try:
        items = json.loads(table.read_text())
    except json.JSONDecodeError:
        raise DataError(f"{table} is not JSON") from None
    rows = []
    for item in items:
        runs = item.get("run_dirs") or [item["run_dir"]]
        label = f"{item.get('label', item['key'])} ({item.get('backbone', '?')})"
        rows.append((item["key"], label, [_resolve(lb_dir, r) for r in runs]))
    return rows


def validation_points(run_dirs: list[Path]) -> tuple[list[int], list[dict[int, dict]]]:
    """(the training episodes at which every run validated, sorted; per run its validation records by episode)."""
    per_seed = []
    for run in run_dirs:
        val = [r for r in read_metrics(run) if "val_accuracy" in r and "episode" in r]
        per_seed.append({int(r["episode"]): r for r in val})
    common = sorted(set.intersection(*(set(s) for s in per_seed))) if per_seed else []
    return common, per_seed


def row_curve(key: str, label: str, run_dirs: list[Path]) -> RowCurve | None:
    """The curve of one row over its seeds' run directories; None when no run validated during training."""
    common, per_seed = validation_points(run_dirs)
    if not common:
        return None
    acc = np.array([[s[e]["val_accuracy"] for e in common] for s in per_seed], dtype=np.float64)
    has_wall = all("wall_s" in s[e] for s in per_seed for e in common)
    wall = np.array([[s[e]["wall_s"] for e in common] for s in per_seed]).mean(axis=0) if has_wall else None
    return RowCurve(key, label, len(per_seed), np.array(common), acc.mean(axis=0), acc.min(axis=0),
                    acc.max(axis=0), wall)


def leaderboard_curves(lb_dir: str | Path) -> list[RowCurve]:
    """Every row's :class:`RowCurve` in table order (rows without validation points left out)."""
    lb_dir = Path(lb_dir)
    curves = [row_curve(key, label, runs) for key, label, runs in leaderboard_rows(lb_dir)]
    found = [c for c in curves if c is not None]
    if not found:
        raise DataError(f"{lb_dir}: no row run recorded validation during training (train.val_every)")
    return found
