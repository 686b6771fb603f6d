"""Confidence intervals, paired differences and tie-aware ranks of per-episode accuracies.

Convention (NSL_SPEC §8.4, the Closer-Look / ProtoNet / MAML one): over n episodes with accuracies a_i,
report ``mean ± 1.96·σ/√n`` with σ the **population** standard deviation (ddof = 0).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .errors import DataError

#: the formula printed next to every result
CI_FORMULA = "mean ± 1.96·σ/√n, σ population std (ddof=0)"
Z95 = 1.96


def mean_ci95(accuracies: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """(mean, 1.96·σ/√n) of (n,) per-episode accuracies, σ the population std (ddof=0).

    The units of the result are those of the input (percent in, percent out).
    """
    a = np.asarray(accuracies, dtype=np.float64).ravel()
    if a.size == 0:
        raise DataError("no episode accuracies to summarise")
    return float(a.mean()), float(Z95 * a.std(ddof=0) / np.sqrt(a.size))


def paired_difference(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """(mean, ci95) of the per-episode differences ``a - b`` of two methods on the **same** episodes.

    Both are (n,) arrays in episode order; the CI is :func:`mean_ci95` of the differences.
    """
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise DataError(f"paired difference needs the same episodes: {a.size} vs {b.size} accuracies")
    return mean_ci95(a - b)


def significantly_better(a: np.ndarray, b: np.ndarray) -> bool:
    """True when ``a`` beats ``b`` on the same episodes: the paired difference's 95% CI lies above zero."""
    mean, ci = paired_difference(a, b)
    return mean - ci > 0


def tie_aware_ranks(rows: Sequence[Sequence[float] | np.ndarray]) -> list[int]:
    """Ranks (1 = best) of methods given their (n,) per-episode accuracies on the same episodes.

    A method's rank is 1 + the number of methods that are *significantly* better than it (the paired
    difference's 95% CI excludes zero), so methods whose paired CI against a better one covers zero share
    its rank (Meta-Dataset-style ties). Ranks are returned in the order of ``rows``.
    """
    arrays = [np.asarray(r, dtype=np.float64).ravel() for r in rows]
    ranks = []
    for i, a in enumerate(arrays):
        better = sum(1 for j, b in enumerate(arrays) if j != i and significantly_better(b, a))
        ranks.append(1 + better)
    return ranks
