"""CI formula, paired differences and tie-aware ranks against hand computations."""

import math

import numpy as np
import pytest

from fewshot_nsl.core.errors import DataError
from fewshot_nsl.core.stats import CI_FORMULA, mean_ci95, paired_difference, tie_aware_ranks


def test_mean_ci95_matches_hand_computation_with_population_std():
    accs = [60.0, 70.0, 80.0, 90.0]
    mean = 75.0
    sigma = math.sqrt(((15**2) * 2 + (5**2) * 2) / 4)  # ddof = 0: divide by n, not n - 1
    m, ci = mean_ci95(accs)
    assert m == pytest.approx(mean)
    assert ci == pytest.approx(1.96 * sigma / math.sqrt(4))
    # not the sample std (ddof=1)
    assert ci != pytest.approx(1.96 * np.std(accs, ddof=1) / 2)
    assert "1.96" in CI_FORMULA and "ddof=0" in CI_FORMULA


def test_mean_ci95_constant_and_empty():
    assert mean_ci95([50.0] * 600) == (50.0, 0.0)
    with pytest.raises(DataError):
        mean_ci95([])


def test_paired_difference_uses_per_episode_differences():
    a = np.array([70.0, 72.0, 68.0, 90.0])
    b = np.array([60.0, 61.0, 59.0, 81.0])
    d = a - b  # 10, 11, 9, 9
    m, ci = paired_difference(a, b)
    assert m == pytest.approx(9.75)
    assert ci == pytest.approx(1.96 * np.sqrt(np.mean((d - d.mean()) ** 2)) / 2)
    # the paired CI is far tighter than the unpaired one for correlated episodes
    assert ci < mean_ci95(a)[1]


def test_paired_difference_needs_same_length():
    with pytest.raises(DataError, match="same episodes"):
        paired_difference([1.0, 2.0], [1.0, 2.0, 3.0])


def test_tie_aware_ranks():
    rng = np.random.default_rng(0)
    base = rng.uniform(40, 80, size=600)
    best = base + 5.0 + rng.normal(0, 1, 600)       # clearly better than base
    tied = best + rng.normal(0, 3, 600)               # indistinguishable from best
    worst = base - 10.0 + rng.normal(0, 1, 600)     # clearly worse than everything
    ranks = tie_aware_ranks([base, best, tied, worst])
    assert ranks[1] == ranks[2] == 1
    assert ranks[0] == 3  # best and tied are both significantly better
    assert ranks[3] == 4


def test_tie_aware_ranks_chain_is_not_transitive():
    # b - c = 0.15 + e1, a - b = 0.15 + e2 with orthogonal unit-std patterns e1, e2 over n = 100 episodes:
    # CI(b - c) = CI(a - b) = 1.96 * 1 / 10 = 0.196 > 0.15 (ties), CI(a - c) = 0.196 * sqrt(2) = 0.277 < 0.30.
    n = 100
    e1 = np.tile([1.0, -1.0], n // 2)
    e2 = np.tile([1.0, 1.0, -1.0, -1.0], n // 4)
    c = np.full(n, 60.0)
    b = c + 0.15 + e1
    a = b + 0.15 + e2
    assert paired_difference(b, c)[1] == pytest.approx(0.196)
    assert paired_difference(a, c)[1] == pytest.approx(0.196 * math.sqrt(2))
    assert tie_aware_ranks([a, b, c]) == [1, 1, 2]
    assert tie_aware_ranks([c, b, a]) == [2, 1, 1]
