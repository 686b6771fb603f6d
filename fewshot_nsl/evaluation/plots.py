"""Figures (needs the ``plot`` extra, matplotlib): training curves of runs, the leaderboard's accuracies and its
rows' learning curves."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..core.errors import DataError, FewShotError


def require_matplotlib() -> Any:
    """``matplotlib.pyplot`` with the file-only Agg backend; FewShotError when matplotlib is not installed."""
    try:
        import matplotlib
    except ImportError:
        raise FewShotError("plotting needs matplotlib: pip install 'fewshot-nsl[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    """The JSON lines of ``run_dir/metrics.jsonl``; DataError when missing or malformed (line number named)."""
    path = Path(run_dir) / "metrics.jsonl"
    if not path.is_file():
        raise DataError(f"{run_dir} holds no metrics.jsonl (is it a run directory of 'fewshot-nsl train'?)")
    records = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise DataError(f"{path} line {number} is not JSON") from None
        if isinstance(record, dict):
            records.append(record)
    return records


def plot_training_curves(run_dirs: Sequence[str | Path], out: str | Path) -> Path:
    """Training loss and validation accuracy (with its CI band) against training episodes, one colour per run."""
    all_records = [read_metrics(run) for run in run_dirs]  # bad run directories fail before any plotting
    plt = require_matplotlib()
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    short = [Path(run).name or str(run) for run in run_dirs]
    names = short if len(set(short)) == len(short) else [str(run) for run in run_dirs]
    for k, (run, name, records) in enumerate(zip(run_dirs, names, all_records)):
        colour = f"C{k % 10}"
        train = [r for r in records if "loss" in r and "episode" in r]
        val = [r for r in records if "val_accuracy" in r and "episode" in r]
        if not train and not val:
            raise DataError(f"{run}/metrics.jsonl holds no training or validation lines")
        if train:
            ax_loss.plot([r["episode"] for r in train], [r["loss"] for r in train], color=colour, label=name)
        if val:
            x = [r["episode"] for r in val]
            # metrics.jsonl holds fractions; the axis is in percent
            y = [100.0 * r["val_accuracy"] for r in val]
            ci = [100.0 * r.get("val_ci95", 0.0) for r in val]
            ax_acc.plot(x, y, "o-", color=colour, label=name)
            ax_acc.fill_between(x, [a - c for a, c in zip(y, ci)], [a + c for a, c in zip(y, ci)],
                                color=colour, alpha=0.2)
    ax_loss.set(xlabel="training episodes", ylabel="training loss", title="loss")
    ax_acc.set(xlabel="training episodes", ylabel="validation accuracy (%)", title="validation accuracy ± 95% CI")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    return _save(fig, plt, out)


def _xerr(rows: Sequence[dict[str, Any]]) -> list[list[float]]:
    """(2, rows) error-bar lengths in percent: ``ci95`` a half-width, or a (low, high) interval around the value."""
    low, high = [], []
    for r in rows:
        ci = r["ci95"]
        lo, hi = (r["accuracy"] - ci[0], ci[1] - r["accuracy"]) if isinstance(ci, (tuple, list)) else (ci, ci)
        low.append(100.0 * lo)
        high.append(100.0 * hi)
    return [low, high]


def plot_leaderboard(rows: Sequence[dict[str, Any]], out: str | Path, title: str = "",
                     xlabel: str = "accuracy (%)") -> Path:
    """Our accuracy ± 95% CI per row (bars), each seed's accuracy (crosses, with several seeds) and the paper's
    value beside it (diamonds).

    ``rows`` are leaderboard rows (:mod:`fewshot_nsl.experiments.table`), accuracies as fractions; the axis is
    in percent. Another measure (an error) can be plotted under the same keys, named by ``xlabel``; its ``ci95``
    may then be a (low, high) interval.
    """
    plt = require_matplotlib()
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.5))
    names = [f"{r['label']} ({r['backbone']})" for r in rows]
    ys = list(range(len(rows)))[::-1]
    ax.errorbar([100.0 * r["accuracy"] for r in rows], ys, xerr=_xerr(rows), fmt="o",
                color="C0", capsize=3, label="ours ± 95% CI")
    seed_points = [(100.0 * a, y) for r, y in zip(rows, ys) for a in (r.get("seed_accuracies") or [])
                   if len(r.get("seed_accuracies") or []) > 1]
    if seed_points:
        ax.scatter([p for p, _ in seed_points], [y for _, y in seed_points], marker="x", s=14, color="C7",
                   label="each seed", zorder=3)
    paper = [(100.0 * r["paper"], y) for r, y in zip(rows, ys) if r.get("paper") is not None]
    if paper:
        ax.scatter([p for p, _ in paper], [y for _, y in paper], marker="D", color="C3", label="paper")
    ax.set_yticks(ys)
    ax.set_yticklabels(names, fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    # below the axes: inside, it can hide a point (the paper's 77.44 sits at the bottom right)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False)
    return _save(fig, plt, out)


def plot_leaderboard_curves(lb_dir: str | Path, out: str | Path) -> Path:
    """Every row's learning curve (mean over seeds, band = min..max over seeds) against training episodes and
    against wall-clock time, two panels of one PNG (see :mod:`.curves`)."""
    from .curves import leaderboard_curves

    curves = leaderboard_curves(lb_dir)  # bad directories fail before any plotting
    plt = require_matplotlib()
    fig, (ax_ep, ax_wall) = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    for k, c in enumerate(curves):
        colour, name = f"C{k % 10}", f"{c.label} [{c.seeds} seed{'s' if c.seeds > 1 else ''}]"
        for ax, x in ((ax_ep, c.episodes), (ax_wall, None if c.wall_s is None else c.wall_s / 3600.0)):
            if x is None:
                continue
            ax.plot(x, 100.0 * c.mean, "o-", color=colour, label=name, markersize=3)
            if c.seeds > 1:
                ax.fill_between(x, 100.0 * c.low, 100.0 * c.high, color=colour, alpha=0.15)
    ax_ep.set(xlabel="training episodes", ylabel="validation accuracy (%)",
              title="mean over seeds, band = min..max over seeds")
    ax_wall.set(xlabel="wall-clock time of the run (h)", title="against wall-clock time (mean over seeds)")
    for ax in (ax_ep, ax_wall):
        ax.grid(alpha=0.3)
    ax_ep.legend(fontsize=7)
    return _save(fig, plt, out)


def _save(fig: Any, plt: Any, out: str | Path) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
