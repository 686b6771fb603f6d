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
             "delta_reference": "delta_reference_pct", "delta_reference_ci95": "delta_reference_ci95_pct"}
#: the other keys of a row, in order
PLAIN = ("rank", "key", "label", "method", "backbone", "nsl", "way", "shot", "query", "train_way")
TAIL = ("parameters", "train_episodes", "image_size", "precision", "wall_s", "run_dir")
#: CSV columns, in order (``*_pct`` in percent points)
COLUMNS = (*PLAIN, *FRACTIONS.values(), *TAIL)


def _percent(value: float | None) -> float | None:
    return None if value is None else 100.0 * value


def _pm(value: float | None, ci: float | None, signed: bool = False) -> str:
    """``value ± ci`` of two fractions, in percent with two decimals; "—" when there is no value."""
    if value is None:
        return "—"
    fmt = "{:+.2f}" if signed else "{:.2f}"
    return fmt.format(100.0 * value) + ("" if ci is None else f" ± {100.0 * ci:.2f}")


def _wall(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = seconds / 60
    return f"{minutes / 60:.1f} h" if minutes >= 90 else f"{minutes:.1f} min"


def markdown_table(rows: Sequence[dict[str, Any]], reference: str) -> str:
    """The table: rank, method, backbone, task, ours ± CI, paper, paired difference to ``reference``, size, cost."""
    head = ("| rank | method | backbone | NS | way/shot/query (train way) | ours (%) | paper (%) "
            f"| Δ vs {reference} (paired, points) | parameters | train episodes | image size | wall time |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        delta = ("(reference)" if r["key"] == reference
                 else _pm(r.get("delta_reference"), r.get("delta_reference_ci95"), signed=True))
        lines.append(
            f"| {r['rank']} | {r['label']} | {r['backbone']} | {r['nsl']} | {r['way']}/{r['shot']}/{r['query']} "
            f"({r['train_way']}) | {_pm(r['accuracy'], r['ci95'])} | {_pm(r.get('paper'), None)} "
            f"| {delta} | {r['parameters']:,} | {r['train_episodes']:,} | {r['image_size']} "
            f"| {_wall(r.get('wall_s'))} |"
        )
    return "\n".join(lines)


def csv_text(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as CSV with the header :data:`COLUMNS` (accuracy-like numbers in percent points)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    for r in rows:
        values = {**{k: r.get(k) for k in (*PLAIN, *TAIL)},
                  **{column: _percent(r.get(key)) for key, column in FRACTIONS.items()}}
        writer.writerow({k: ("" if values[k] is None else values[k]) for k in COLUMNS})
    return buffer.getvalue()


def json_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for ``--json``: the plain keys, then the accuracy-like ones (fractions)."""
    return [{**{k: r.get(k) for k in (*PLAIN, *TAIL)}, **{k: r.get(k) for k in FRACTIONS}} for r in rows]
