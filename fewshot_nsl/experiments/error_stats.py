"""An error table's row over training seeds, and its comparison with the reference row image by image.

Every row is scored on the **same** test images (a whole split), so two rows are compared image by image.
An entry is a dict with ``key`` and, per seed, ``seed`` and ``_result`` (a
:class:`~fewshot_nsl.evaluation.classification.ClassificationResult` holding each image's top-1 outcome).
Errors are fractions. Definitions (printed under the table, :data:`ERROR_STATS_NOTE`):

- a row's error: the mean over seeds of each seed's top-1 error on the n test images; its 95% interval with one
  seed is Wilson's (binomial over the n images), with several seeds Student's ``± t(0.975, S-1)·s/√S`` over the
  S seed errors (s: sample SD) — the spread of trained models, which dwarfs the binomial one;
- Δ to the reference: the mean over seeds of the per-seed differences ``err_row(s) - err_ref(s)``, with
  (a) the **paired per-image** interval: the per-image differences ``d_i = wrong_row,i - wrong_ref,i`` (in
  {-1, 0, 1}; all seeds' images pooled, seed s of the row with seed s of the reference), mean ± 1.96·σ/√N, σ the
  population SD of the d_i (normal approximation; for one seed this is the Wald interval of a difference of two
  paired proportions, the one that goes with McNemar's test: σ² = (b + c)/n - ((b - c)/n)² with b, c the
  discordant counts), and (b) with several seeds ± t(0.975, S-1)·s/√S over the per-seed differences.
- ranks (1 = best; tie-aware, :func:`~fewshot_nsl.core.stats.tie_aware_ranks`): with 2 or more seeds a row is
  beaten by another when the across-seed interval (b) of their difference excludes zero; with one seed, when the
  per-image interval (a) does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.errors import DataError
from ..core.stats import (
    paired_difference,
    sample_sd,
    seed_ci95,
    significantly_better,
    significantly_better_across_seeds,
    tie_aware_ranks,
)

ERROR_STATS_NOTE = (
    "Error: top-1 error on every test image. 'ours' is the mean over seeds of each seed's error, with one seed "
    "its 95% Wilson interval (binomial over the test images), with several seeds ± t(0.975, S-1)·s/√S over the "
    "S seeds' errors (s: sample SD). Δ is the mean over seeds of the per-seed differences of errors (row minus "
    "reference, seed s with seed s), ± the paired per-image interval: mean ± 1.96·σ/√N of the per-image "
    "differences of top-1 outcomes (wrong = 1; all seeds' images pooled; normal approximation, the Wald interval "
    "of two paired proportions that goes with McNemar's test), and beside it ± t(0.975, S-1)·s/√S over the "
    "per-seed differences. Ranks are tie-aware (1 + the number of rows significantly better: by the across-seed "
    "interval with 2 or more seeds, by the per-image one with one seed)."
)


def combine_error_seeds(per_seed: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One row from its per-seed entries (seed order kept): ``error`` and ``error_ci95`` ((low, high)),
    ``seeds``, ``seed_errors``, ``seed_sd`` (None for one seed), ``top5_error`` (mean), ``run_dirs``,
    ``wall_s`` (mean per seed run) and ``_results``; the first seed's descriptive keys."""
    if not per_seed:
        raise DataError("a row needs at least one seed's result")
    results = [e["_result"] for e in per_seed]
    errors = [float(r.top1_error) for r in results]
    mean, half = seed_ci95(errors)
    ci = tuple(results[0].top1_ci95) if half is None else (mean - half, mean + half)
    walls = [e.get("wall_s") for e in per_seed]
    row = {k: v for k, v in per_seed[0].items() if k not in ("_result", "seed")}
    row.update(error=mean, error_ci95=ci, seeds=[e["seed"] for e in per_seed], seed_errors=errors,
               seed_sd=sample_sd(errors), top5_error=float(np.mean([r.top5_error for r in results])),
               run_dirs=[str(e["run_dir"]) for e in per_seed],
               wall_s=None if None in walls else float(np.mean(walls)), _results=results)
    return row


def _check_same_images(rows: Sequence[dict[str, Any]]) -> None:
    first = rows[0]
    fingerprint = first["_results"][0].protocol.get("images_sha256")
    for r in rows:
        if r["seeds"] != first["seeds"]:
            raise DataError(f"rows {first['key']} and {r['key']} have different seeds ({first['seeds']} vs "
                            f"{r['seeds']}); a paired comparison needs the same ones")
        for res in r["_results"]:
            if not fingerprint or res.protocol.get("images_sha256") != fingerprint:
                raise DataError(f"rows {first['key']} and {r['key']} were not scored on the same images "
                                "(images_sha256 differs or is missing); a paired difference needs them")


def _correct(row: dict[str, Any]) -> np.ndarray:
    """(seeds x images,) per-image top-1 correctness (1.0 right) of all seeds of ``row``, seed after seed."""
    return 1.0 - np.concatenate([r.wrong() for r in row["_results"]])


def compare_errors(rows: list[dict[str, Any]], reference: str) -> None:
    """Add ``rank``, ``delta_reference``, ``delta_image_ci95`` and ``delta_seed_ci95`` (fractions, in place);
    DataError unless every row has the same seeds, each scored on the same images."""
    if not rows:
        return
    _check_same_images(rows)
    if len(rows[0]["seeds"]) >= 2:
        ranks = tie_aware_ranks([[1.0 - e for e in r["seed_errors"]] for r in rows],
                                better=significantly_better_across_seeds)
    else:
        ranks = tie_aware_ranks([_correct(r) for r in rows], better=significantly_better)
    ref = next((r for r in rows if r["key"] == reference), None)
    for r, rank in zip(rows, ranks):
        r["rank"] = rank
        if ref is None or r is ref:
            r["delta_reference"] = r["delta_image_ci95"] = r["delta_seed_ci95"] = None
            continue
        per_seed = [a - b for a, b in zip(r["seed_errors"], ref["seed_errors"])]
        r["delta_reference"], r["delta_seed_ci95"] = seed_ci95(per_seed)
        # wrong_row - wrong_ref = correct_ref - correct_row, image by image
        r["delta_image_ci95"] = paired_difference(_correct(ref), _correct(r))[1]
