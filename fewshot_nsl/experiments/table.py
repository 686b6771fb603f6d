"""Leaderboard rows as a markdown table, a CSV file and JSON.

A row is a plain dict with the keys :data:`PLAIN`, :data:`FRACTIONS` (accuracy-like numbers, as fractions)
and :data:`TAIL`. The markdown table and the CSV file are for people and show them in percent (CSV columns ``*_pct``);
:func:`json_rows` keeps fractions, as every ``--json`` output of the CLI reports them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

#: accuracy-like keys of a row (fractions) and their CSV column (percent points)
FRACTIONS = {"accuracy": "accuracy_pct", "ci95": "ci95_pct", "paper": "paper_pct",
             "delta_reference": "delta_reference_pct", "delta_reference_ci95": "delta_reference_ci95_pct",
             "seed_sd": "seed_sd_pct", "delta_seed_ci95": "delta_seed_ci95_pct"}
#: list-valued keys (one value per seed) and their CSV column (space-separated; ``*_pct`` in percent points)
LISTS = {"seeds": "seeds", "seed_accuracies": "seed_accuracies_pct", "run_dirs": "run_dirs"}
#: the other keys of a row, in order
PLAIN = ("rank", "key", "label", "method", "backbone", "nsl", "way", "shot", "query", "train_way")
TAIL = ("parameters", "train_episodes", "image_size", "precision", "wall_s", "run_dir")
#: CSV columns, in order (``*_pct`` in percent points)
COLUMNS = (*PLAIN, *FRACTIONS.values(), *TAIL, *LISTS.values())


def _percent(value: float | None) -> float | None:
    return None if value is None else 100.0 * value


def _pm(value: float | None, ci: float | None, signed: bool = False) -> str:
    """``value ± ci`` of two fractions, in percent with two decimals; "—" when there is no value."""
    if value is None:
        return "—"
    fmt = "{:+.2f}" if signed else "{:.2f}"
    return fmt.format(100.0 * value) + ("" if ci is None else f" ± {100.0 * ci:.2f}")


def wall_text(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = seconds / 60
    return f"{minutes / 60:.1f} h" if minutes >= 90 else f"{minutes:.1f} min"


def _seeds_cell(r: dict[str, Any]) -> str:
    """``s0: 48.10, s1: 47.90 (SD 0.14)`` in percent; "—" for a row without per-seed results."""
    pairs = list(zip(r.get("seeds") or [], r.get("seed_accuracies") or []))
    if not pairs:
        return "—"
    text = ", ".join(f"s{s}: {100.0 * a:.2f}" for s, a in pairs)
    return text + ("" if r.get("seed_sd") is None else f" (SD {100.0 * r['seed_sd']:.2f})")


def markdown_table(rows: Sequence[dict[str, Any]], reference: str) -> str:
    """The table: rank, method, backbone, task, ours ± CI, per seed, paper, paired difference to ``reference``
    (per episode, and its CI across seeds), size, cost (wall time per seed run)."""
    head = ("| rank | method | backbone | NS | way/shot/query (train way) | ours (%) | per seed (%) | paper (%) "
            f"| Δ vs {reference} (paired, points) | Δ CI across seeds (t, points) | parameters | train episodes "
            "| image size | wall time |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        delta = ("(reference)" if r["key"] == reference
                 else _pm(r.get("delta_reference"), r.get("delta_reference_ci95"), signed=True))
        seed_ci = r.get("delta_seed_ci95")
        across = "—" if seed_ci is None else f"± {100.0 * seed_ci:.2f}"
        lines.append(
            f"| {r['rank']} | {r['label']} | {r['backbone']} | {r['nsl']} | {r['way']}/{r['shot']}/{r['query']} "
            f"({r['train_way']}) | {_pm(r['accuracy'], r['ci95'])} | {_seeds_cell(r)} | {_pm(r.get('paper'), None)} "
            f"| {delta} | {across} | {r['parameters']:,} | {r['train_episodes']:,} | {r['image_size']} "
            f"| {wall_text(r.get('wall_s'))} |"
        )
    return "\n".join(lines)


def _list_cell(key: str, values: Any) -> str | None:
    if not values:
        return None
    return " ".join(f"{100.0 * v:.4f}" if key == "seed_accuracies" else str(v) for v in values)


def csv_text(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as CSV with the header :data:`COLUMNS` (accuracy-like numbers in percent points)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    for r in rows:
        values = {**{k: r.get(k) for k in (*PLAIN, *TAIL)},
                  **{column: _percent(r.get(key)) for key, column in FRACTIONS.items()},
                  **{column: _list_cell(key, r.get(key)) for key, column in LISTS.items()}}
        writer.writerow({k: ("" if values[k] is None else values[k]) for k in COLUMNS})
    return buffer.getvalue()


def json_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for ``--json``: the plain keys, then the accuracy-like ones (fractions), then the per-seed lists."""
    return [{**{k: r.get(k) for k in (*PLAIN, *TAIL)}, **{k: r.get(k) for k in FRACTIONS},
             **{k: r.get(k) for k in LISTS}} for r in rows]
