"""An error table's rows as markdown, CSV and JSON (the CIFAR table; rows from :mod:`.error_stats`).

The markdown table and the CSV file show errors in percent (CSV columns ``*_pct``); JSON keeps fractions, as
every ``--json`` output of the CLI does. Intervals of a row's error are (low, high) pairs; those of a difference
are half-widths.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from .table import wall_text

#: the other keys of a row, in order
PLAIN = ("rank", "key", "label", "method", "backbone", "nsl", "param", "dataset", "paper_column")
TAIL = ("images", "parameters", "train_iterations", "batch_size", "image_size", "precision", "wall_s", "run_dir")
#: error-like keys (fractions): scalars, and (low, high) pairs written as two CSV columns
SCALARS = ("error", "top5_error", "paper", "delta_reference", "delta_image_ci95", "delta_seed_ci95", "seed_sd")
PAIRS = ("error_ci95",)
LISTS = ("seeds", "seed_errors", "run_dirs")
COLUMNS = (*PLAIN, *(f"{k}_pct" for k in SCALARS), *(f"{k}_{end}_pct" for k in PAIRS for end in ("low", "high")),
           *TAIL, "seeds", "seed_errors_pct", "run_dirs")


def _pct(value: float | None, signed: bool = False) -> str:
    return "—" if value is None else ("{:+.2f}" if signed else "{:.2f}").format(100.0 * value)


def _seeds_cell(r: dict[str, Any]) -> str:
    pairs = list(zip(r.get("seeds") or [], r.get("seed_errors") or []))
    text = ", ".join(f"s{s}: {100.0 * e:.2f}" for s, e in pairs) or "—"
    return text + ("" if r.get("seed_sd") is None else f" (SD {100.0 * r['seed_sd']:.2f})")


def markdown_table(rows: Sequence[dict[str, Any]], reference: str, paper_title: str) -> str:
    """Rank, row, NS, error [95% interval], per seed, paper, Δ to ``reference`` (per image; across seeds),
    top-5 error, size, length, cost."""
    head = (f"| rank | row | NS | test error (%) [95% interval] | per seed (%) | {paper_title} (%) "
            f"| Δ vs {reference} (points, ± paired per-image) | Δ CI across seeds (t, points) | top-5 error (%) "
            "| parameters | iterations × batch | image size | wall time |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        lo, hi = r["error_ci95"]
        if r["key"] == reference:
            delta = "(reference)"
        else:
            image_ci = r.get("delta_image_ci95")
            delta = _pct(r.get("delta_reference"), signed=True) + ("" if image_ci is None else f" ± {_pct(image_ci)}")
        seed_ci = r.get("delta_seed_ci95")
        ns = r["nsl"] if r.get("param") in (None, "disjoint") or r["nsl"] == "none" else f"{r['nsl']}, {r['param']}"
        lines.append(
            f"| {r['rank']} | {r['label']} | {ns} | {_pct(r['error'])} [{_pct(lo)}, {_pct(hi)}] | {_seeds_cell(r)} "
            f"| {_pct(r.get('paper'))} | {delta} | {'—' if seed_ci is None else '± ' + _pct(seed_ci)} "
            f"| {_pct(r.get('top5_error'))} | {r['parameters']:,} | {r['train_iterations']:,} × {r['batch_size']} "
            f"| {r['image_size']} | {wall_text(r.get('wall_s'))} |")
    return "\n".join(lines)


def csv_text(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as CSV with the header :data:`COLUMNS` (error-like numbers in percent points)."""
    def pct(v: Any) -> Any:
        return None if v is None else 100.0 * v

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    for r in rows:
        values: dict[str, Any] = {k: r.get(k) for k in (*PLAIN, *TAIL)}
        values.update({f"{k}_pct": pct(r.get(k)) for k in SCALARS})
        for k in PAIRS:
            lo, hi = r.get(k) or (None, None)
            values.update({f"{k}_low_pct": pct(lo), f"{k}_high_pct": pct(hi)})
        values.update(seeds=" ".join(map(str, r.get("seeds") or [])) or None,
                      seed_errors_pct=" ".join(f"{100.0 * e:.4f}" for e in r.get("seed_errors") or []) or None,
                      run_dirs=" ".join(r.get("run_dirs") or []) or None)
        writer.writerow({k: "" if values[k] is None else values[k] for k in COLUMNS})
    return buffer.getvalue()


def json_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for ``--json`` and ``leaderboard.json``: every key above, fractions, intervals as [low, high]."""
    return [{**{k: r.get(k) for k in (*PLAIN, *TAIL, *SCALARS)},
             **{k: None if r.get(k) is None else list(r[k]) for k in PAIRS},
             **{k: r.get(k) for k in LISTS}} for r in rows]
