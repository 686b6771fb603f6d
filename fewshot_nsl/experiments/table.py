"""Leaderboard rows as a markdown table, a CSV file and JSON (accuracies in percent unless stated).

A row is a plain dict with the keys of :data:`COLUMNS` (numbers in percent). :func:`json_rows` converts the
accuracy-like numbers to fractions, as every ``--json`` output of the CLI reports them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

#: CSV columns, in order (``*_pct`` in percent points)
COLUMNS = (
    "rank", "key", "label", "method", "backbone", "nsl", "way", "shot", "query", "train_way",
    "accuracy_pct", "ci95_pct", "paper_pct", "delta_reference_pct", "delta_reference_ci95_pct",
    "parameters", "train_episodes", "image_size", "wall_s", "run_dir",
)
#: accuracy-like columns and their name in the JSON rows (fractions there)
FRACTIONS = {"accuracy_pct": "accuracy", "ci95_pct": "ci95", "paper_pct": "paper",
             "delta_reference_pct": "delta_reference", "delta_reference_ci95_pct": "delta_reference_ci95"}


def _pm(value: float | None, ci: float | None, signed: bool = False) -> str:
    if value is None:
        return "—"
    fmt = "{:+.2f}" if signed else "{:.2f}"
    return fmt.format(value) + ("" if ci is None else f" ± {ci:.2f}")


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
                 else _pm(r.get("delta_reference_pct"), r.get("delta_reference_ci95_pct"), signed=True))
        lines.append(
            f"| {r['rank']} | {r['label']} | {r['backbone']} | {r['nsl']} | {r['way']}/{r['shot']}/{r['query']} "
            f"({r['train_way']}) | {_pm(r['accuracy_pct'], r['ci95_pct'])} | {_pm(r.get('paper_pct'), None)} "
            f"| {delta} | {r['parameters']:,} | {r['train_episodes']:,} | {r['image_size']} "
            f"| {_wall(r.get('wall_s'))} |"
        )
    return "\n".join(lines)


def csv_text(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as CSV with the header :data:`COLUMNS`."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in COLUMNS})
    return buffer.getvalue()


def json_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for ``--json``: accuracy-like numbers as fractions under the names of :data:`FRACTIONS`."""
    out = []
    for r in rows:
        item = {k: r.get(k) for k in COLUMNS if k not in FRACTIONS}
        for pct, name in FRACTIONS.items():
            item[name] = None if r.get(pct) is None else r[pct] / 100.0
        out.append(item)
    return out
