"""Confidence intervals, paired differences and tie-aware ranks of per-episode accuracies, and across seeds.

Convention (NSL_SPEC §8.4, the Closer-Look / ProtoNet / MAML one): over n episodes with accuracies a_i,
report ``mean ± 1.96·σ/√n`` with σ the **population** standard deviation (ddof = 0).
Across training seeds (a handful of values, one per trained model) the interval is Student's:
``mean ± t_{0.975, n-1}·s/√n`` with s the **sample** standard deviation (ddof = 1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .errors import DataError

#: the formula printed next to every result
CI_FORMULA = "mean ± 1.96·σ/√n, σ population std (ddof=0)"
#: the formula of the interval across seeds
SEED_CI_FORMULA = "mean ± t(0.975, n-1)·s/√n over seeds, s sample std (ddof=1)"
Z95 = 1.96
#: t_{0.975, dof} for dof = 1..30 (Student's t, two-sided 95%; standard tables, 4 decimals)
_T975 = (12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
         2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
         2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423)
#: the normal quantile Φ⁻¹(0.975) to full precision (the expansion beyond the table needs it)
_Z975 = 1.959963984540054


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


def tie_aware_ranks(rows: Sequence[Sequence[float] | np.ndarray],
                    better: Callable[[np.ndarray, np.ndarray], bool] = significantly_better) -> list[int]:
    """Ranks (1 = best) of methods given their (n,) per-episode accuracies on the same episodes.

    A method's rank is 1 + the number of methods that are *significantly* better than it (the paired
    difference's 95% CI excludes zero), so methods whose paired CI against a better one covers zero share
    its rank (Meta-Dataset-style ties). Ranks are returned in the order of ``rows``. ``better(b, a)`` decides
    "b significantly better than a"; pass :func:`significantly_better_across_seeds` for (n_seeds,) rows.
    """
    arrays = [np.asarray(r, dtype=np.float64).ravel() for r in rows]
    ranks = []
    for i, a in enumerate(arrays):
        beaten_by = sum(1 for j, b in enumerate(arrays) if j != i and better(b, a))
        ranks.append(1 + beaten_by)
    return ranks


def t_quantile_975(dof: int) -> float:
    """Student's t quantile t_{0.975, dof}: the table for dof <= 30, beyond it the Cornish-Fisher expansion
    ``z + (z³ + z)/(4ν) + (5z⁵ + 16z³ + 3z)/(96ν²)`` (within 1e-4 of the exact value there)."""
    if dof < 1:
        raise DataError(f"a t quantile needs at least 1 degree of freedom, got {dof}")
    if dof <= len(_T975):
        return _T975[dof - 1]
    z, v = _Z975, float(dof)
    return z + (z ** 3 + z) / (4 * v) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * v * v)


def sample_sd(values: Sequence[float] | np.ndarray) -> float | None:
    """Sample standard deviation (ddof = 1) of (n,) values; None when n < 2 (a spread needs two values)."""
    a = np.asarray(values, dtype=np.float64).ravel()
    return float(a.std(ddof=1)) if a.size >= 2 else None


def seed_ci95(values: Sequence[float] | np.ndarray) -> tuple[float, float | None]:
    """(mean, t_{0.975, n-1}·s/√n) of (n,) per-seed values (s: :func:`sample_sd`); the CI is None when n < 2."""
    a = np.asarray(values, dtype=np.float64).ravel()
    if a.size == 0:
        raise DataError("no per-seed values to summarise")
    sd = sample_sd(a)
    return float(a.mean()), (None if sd is None else t_quantile_975(a.size - 1) * sd / float(np.sqrt(a.size)))


def significantly_better_across_seeds(a: np.ndarray, b: np.ndarray) -> bool:
    """True when ``a`` beats ``b`` across seeds: (n,) per-seed accuracies, seed s of one paired with seed s of
    the other; the :func:`seed_ci95` of the differences lies above zero (needs n >= 2)."""
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape or a.size < 2:
        raise DataError(f"a comparison across seeds needs the same >= 2 seeds: {a.size} vs {b.size} values")
    mean, ci = seed_ci95(a - b)
    return ci is not None and mean - ci > 0
