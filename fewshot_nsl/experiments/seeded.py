"""A table row over training seeds: combine each seed's evaluation, compare rows seed by seed, rank them.

Generic over rows: an entry is a dict with ``key`` and, per seed, ``_result`` (an
:class:`~fewshot_nsl.evaluation.result.EvalResult` on the study's fixed episodes) and ``seed``. Statistics
(NSL_SPEC §8.4 for episodes; Student's t across seeds): :mod:`fewshot_nsl.core.stats`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.errors import DataError
from ..core.stats import (
    mean_ci95,
    paired_difference,
    sample_sd,
    seed_ci95,
    significantly_better,
    significantly_better_across_seeds,
    tie_aware_ranks,
)
from ..evaluation.result import compare_results

#: how the row's numbers over seeds are defined (printed under the table)
SEEDS_NOTE = (
    "Over seeds: 'ours' is the mean over seeds of each seed's accuracy, ± the per-episode CI of all seeds' "
    "episodes pooled; each seed's accuracy and their sample SD (ddof=1) follow. Δ is the mean over seeds of the "
    "per-seed paired differences (seed s of the row vs seed s of the reference), ± the pooled per-episode paired "
    "CI, and beside it ± t(0.975, n-1)·s/√n across seeds. With 2 or more seeds a row's rank is 1 + the number of "
    "rows significantly better than it by that across-seed interval; with one seed, by the per-episode one."
)


def combine_seeds(per_seed: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One row from its per-seed entries (seed order kept): mean over seeds, pooled episode CI, seed spread.

    The result holds the first seed's descriptive keys, ``seeds``, ``seed_accuracies`` (fractions),
    ``seed_sd`` (None for one seed), ``run_dirs``, ``wall_s`` (mean per seed run) and ``_results``.
    """
    if not per_seed:
        raise DataError("a row needs at least one seed's result")
    results = [e["_result"] for e in per_seed]
    accuracies = [float(r.mean) for r in results]
    # one seed: exactly that seed's numbers, as a single-seed leaderboard always reported
    ci = results[0].ci95 if len(results) == 1 else mean_ci95(np.concatenate([r.accuracies for r in results]))[1]
    walls = [e.get("wall_s") for e in per_seed]
    row = {k: v for k, v in per_seed[0].items() if k not in ("_result", "seed")}
    row.update(
        accuracy=float(np.mean(accuracies)), ci95=ci, seeds=[e["seed"] for e in per_seed],
        seed_accuracies=accuracies, seed_sd=sample_sd(accuracies),
        run_dirs=[str(e["run_dir"]) for e in per_seed],
        wall_s=None if None in walls else float(np.mean(walls)), _results=results,
    )
    return row


def _check_same_seeds(rows: Sequence[dict[str, Any]]) -> None:
    for r in rows[1:]:
        if r["seeds"] != rows[0]["seeds"]:
            raise DataError(f"rows {rows[0]['key']} and {r['key']} have different seeds "
                            f"({rows[0]['seeds']} vs {r['seeds']}); a paired comparison needs the same ones")


def compare_seeded(rows: list[dict[str, Any]], reference: str) -> None:
    """Add ``rank``, ``delta_reference``, ``delta_reference_ci95`` and ``delta_seed_ci95`` (in place).

    Every row must have the same seeds, each seed evaluated on the same episodes (DataError otherwise).
    """
    if not rows:
        return
    _check_same_seeds(rows)
    for r in rows[1:]:
        for a, b in zip(r["_results"], rows[0]["_results"]):
            compare_results(a, b, r["key"], rows[0]["key"])  # raises unless the same episodes
    if len(rows[0]["seeds"]) >= 2:
        ranks = tie_aware_ranks([r["seed_accuracies"] for r in rows], better=significantly_better_across_seeds)
    else:
        ranks = tie_aware_ranks([r["_results"][0].accuracies for r in rows], better=significantly_better)
    ref = next((r for r in rows if r["key"] == reference), None)
    for r, rank in zip(rows, ranks):
        r["rank"] = rank
        if ref is None or r is ref:
            r["delta_reference"] = r["delta_reference_ci95"] = r["delta_seed_ci95"] = None
            continue
        per_seed = [compare_results(a, b, r["key"], reference)[0] for a, b in zip(r["_results"], ref["_results"])]
        r["delta_reference"], r["delta_seed_ci95"] = seed_ci95(per_seed)
        pooled = [np.concatenate([x.accuracies for x in row["_results"]]) for row in (r, ref)]
        # one seed: today's per-episode paired interval exactly
        r["delta_reference_ci95"] = (compare_results(r["_results"][0], ref["_results"][0])[1]
                                     if len(per_seed) == 1 else paired_difference(*pooled)[1])
