"""Numbers from a leaderboard's learning curves, across seeds: how far each curve is from flat at its end, and how
a row's gap to the reference row moves during training (issue 13's questions; ``fewshot-nsl plot DIR --summary``).

The curves are the validation records of each run's ``metrics.jsonl`` (:mod:`.curves`): accuracy on the same
fixed validation episodes at the same training episodes for every run, so two rows' seed-s runs are paired point by
point. Intervals are across seeds (``core.stats.seed_ci95``: Student t, n-1 degrees of freedom); with one seed there
is none. A curve point is measured on few episodes (``train.val_episodes``), so single points are noisy: the slope is
a least-squares fit over the last ``window`` episodes of each seed, not the difference of two points.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import DataError
from ..core.stats import seed_ci95
from ..runtime.yaml_io import read_yaml
from .curves import leaderboard_rows, validation_points


@dataclass(frozen=True)
class SeedCurves:
    """One row's validation curve per seed: ``accuracy`` (n_seeds, k) fractions at ``episodes`` (k,), the training
    episodes every one of its seeds validated at; ``seeds`` (n_seeds,) the training seed of each curve."""

    key: str
    label: str
    seeds: tuple[int, ...]
    episodes: np.ndarray
    accuracy: np.ndarray


def _seed(run_dir: Path, position: int) -> int:
    config = run_dir / "config.yaml"
    if not config.is_file():
        return position
    return int((read_yaml(config).get("train") or {}).get("seed", position))


def seed_curves(key: str, label: str, run_dirs: list[Path]) -> SeedCurves | None:
    """The row's :class:`SeedCurves`; None when no run validated during training."""
    common, per_seed = validation_points(run_dirs)
    if not common:
        return None
    acc = np.array([[float(s[e]["val_accuracy"]) for e in common] for s in per_seed], dtype=np.float64)
    return SeedCurves(key, label, tuple(_seed(r, i) for i, r in enumerate(run_dirs)), np.array(common), acc)


def end_slope(curves: SeedCurves, window: int) -> tuple[float, float | None, int]:
    """(mean, across-seed CI, points) of the least-squares slope of each seed's curve over its last ``window``
    training episodes, in accuracy (fraction) per 1,000 episodes; DataError with fewer than two points there."""
    last = curves.episodes[-1]
    mask = curves.episodes >= last - window
    x = curves.episodes[mask] / 1000.0
    if x.size < 2:
        raise DataError(f"row {curves.key}: fewer than two validation points in its last {window} episodes")
    slopes = [float(np.polyfit(x, seed_acc[mask], 1)[0]) for seed_acc in curves.accuracy]
    mean, ci = seed_ci95(slopes)
    return mean, ci, int(x.size)


def gap_curve(row: SeedCurves, reference: SeedCurves) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, int]:
    """``row`` minus ``reference``, seed s paired with seed s, at the episodes both validated at:
    (episodes (k,), mean gap (k,), across-seed CI (k,) or None with one shared seed, number of shared seeds)."""
    shared = [s for s in row.seeds if s in reference.seeds]
    if not shared:
        raise DataError(f"rows {row.key} and {reference.key} share no training seed")
    episodes = np.array(sorted(set(row.episodes.tolist()) & set(reference.episodes.tolist())))
    if episodes.size == 0:
        raise DataError(f"rows {row.key} and {reference.key} share no validation point")

    def at(curves: SeedCurves) -> np.ndarray:
        cols = [int(np.flatnonzero(curves.episodes == e)[0]) for e in episodes]
        return np.stack([curves.accuracy[curves.seeds.index(s), cols] for s in shared])

    diff = at(row) - at(reference)  # (shared seeds, k)
    stats = [seed_ci95(diff[:, j]) for j in range(episodes.size)]
    means = np.array([m for m, _ in stats])
    cis = None if len(shared) < 2 else np.array([c for _, c in stats])
    return episodes, means, cis, len(shared)


def curve_summary(lb_dir: str | Path, reference: str | None = "protonet", window: int = 2000) -> list[dict[str, Any]]:
    """One dict per row of the leaderboard folder ``lb_dir`` (fractions): ``key``, ``label``, ``seeds``,
    ``final`` / ``final_ci95`` (the last point, across seeds), ``slope`` / ``slope_ci95`` / ``slope_points``
    (:func:`end_slope`, per 1,000 episodes; ``slope`` None with fewer than two points in the window), and
    for rows other than ``reference`` (when that row is there) ``gap_episodes``, ``gap`` and ``gap_ci95``
    (:func:`gap_curve`)."""
    lb_dir = Path(lb_dir)
    rows = [seed_curves(k, label, runs) for k, label, runs in leaderboard_rows(lb_dir)]
    found = [r for r in rows if r is not None]
    if not found:
        raise DataError(f"{lb_dir}: no row run recorded validation during training (train.val_every)")
    ref = next((r for r in found if r.key == reference), None)
    if ref is not None:  # the reference row first, the others in table order
        found = [ref, *(r for r in found if r is not ref)]
    out = []
    for r in found:
        final, final_ci = seed_ci95(r.accuracy[:, -1])
        try:
            slope, slope_ci, points = end_slope(r, window)
        except DataError:  # a curve still short of two points in the window (a study in progress): no slope
            slope, slope_ci, points = None, None, int((r.episodes >= r.episodes[-1] - window).sum())
        item: dict[str, Any] = {"key": r.key, "label": r.label, "seeds": list(r.seeds),
                                "last_episode": int(r.episodes[-1]), "final": final, "final_ci95": final_ci,
                                "slope": slope, "slope_ci95": slope_ci, "slope_points": points,
                                "slope_window": window}
        if ref is not None and r is not ref:
            episodes, gap, gap_ci, shared = gap_curve(r, ref)
            item.update(gap_episodes=episodes.tolist(), gap=gap.tolist(),
                        gap_ci95=None if gap_ci is None else gap_ci.tolist(), gap_seeds=shared)
        out.append(item)
    return out


def _pct(value: float, ci: float | None) -> str:
    return f"{100 * value:.2f}" + ("" if ci is None else f" ± {100 * ci:.2f}")


def summary_markdown(items: list[dict[str, Any]], reference: str | None = "protonet") -> str:
    """Two markdown tables: each row's end of curve, and each row's gap to ``reference`` along training (points)."""
    lines = ["| row | seeds | last episode | val accuracy there (%) | slope over the last episodes "
             "(points / 1,000 episodes) |", "|---|---|---|---|---|"]
    for it in items:
        lines.append(f"| {it['label']} | {len(it['seeds'])} | {it['last_episode']:,} | "
                     f"{_pct(it['final'], it['final_ci95'])} | "
                     f"{'n/a' if it['slope'] is None else _pct(it['slope'], it['slope_ci95'])} "
                     f"({it['slope_points']} points, last {it['slope_window']:,}) |")
    gaps = [it for it in items if "gap" in it]
    if gaps:
        episodes = gaps[0]["gap_episodes"]
        lines += ["", f"Gap to {reference} (points, seed s paired with seed s, across-seed 95% CI):", "",
                  "| row | " + " | ".join(f"{e:,}" for e in episodes) + " |",
                  "|---|" + "---|" * len(episodes)]
        for it in gaps:
            by_episode = dict(zip(it["gap_episodes"], zip(it["gap"], it["gap_ci95"] or [None] * len(it["gap"]))))
            cells = [_pct(*by_episode[e]) if e in by_episode else "" for e in episodes]
            lines.append(f"| {it['label']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
