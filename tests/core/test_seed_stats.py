"""Student-t quantiles and the across-seed interval, against their definitions."""

import math

import numpy as np
import pytest

from fewshot_nsl.core.errors import DataError
from fewshot_nsl.core.stats import (
    sample_sd,
    seed_ci95,
    significantly_better_across_seeds,
    t_quantile_975,
    tie_aware_ranks,
)


def t_cdf_from_zero(q: float, dof: int) -> float:
    """P(0 < T < q) for Student's t with ``dof`` degrees of freedom: Simpson's rule on its density."""
    log_c = math.lgamma((dof + 1) / 2) - math.lgamma(dof / 2) - 0.5 * math.log(dof * math.pi)
    x = np.linspace(0.0, q, 200_001)
    pdf = np.exp(log_c - (dof + 1) / 2 * np.log1p(x * x / dof))
    h = x[1] - x[0]
    return float(h / 3 * (pdf[0] + pdf[-1] + 4 * pdf[1:-1:2].sum() + 2 * pdf[2:-1:2].sum()))


def test_t_quantile_known_values():
    for dof, expected in [(1, 12.706), (2, 4.303), (3, 3.182), (4, 2.776), (5, 2.571), (10, 2.228),
                          (20, 2.086), (30, 2.042), (40, 2.021), (60, 2.000), (120, 1.980)]:
        assert t_quantile_975(dof) == pytest.approx(expected, abs=6e-4), dof
    assert t_quantile_975(10**6) == pytest.approx(1.96, abs=1e-3)


@pytest.mark.parametrize("dof", [1, 2, 3, 5, 8, 13, 21, 30, 31, 45, 100])
def test_t_quantile_is_the_975_point_of_the_t_distribution(dof):
    # the definition: P(T <= q) = 0.975, i.e. P(0 < T < q) = 0.475 by symmetry
    assert t_cdf_from_zero(t_quantile_975(dof), dof) == pytest.approx(0.475, abs=2e-5)


def test_t_quantile_refuses_zero_dof():
    with pytest.raises(DataError, match="degree of freedom"):
        t_quantile_975(0)


def test_seed_ci95_by_hand():
    values = [0.50, 0.52, 0.57]
    mean = sum(values) / 3
    s = math.sqrt(sum((v - mean) ** 2 for v in values) / 2)  # ddof = 1
    assert sample_sd(values) == pytest.approx(s)
    m, ci = seed_ci95(values)
    assert m == pytest.approx(mean) and ci == pytest.approx(4.3027 * s / math.sqrt(3))
    assert seed_ci95([0.5]) == (0.5, None) and sample_sd([0.5]) is None
    with pytest.raises(DataError):
        seed_ci95([])


def test_better_across_seeds_and_ranks():
    a = np.array([0.50, 0.52, 0.51])
    clearly = a + np.array([0.05, 0.06, 0.055])   # consistent gain: CI above zero
    noisy = a + np.array([0.05, -0.04, 0.02])     # mean +0.01, CI covers zero
    assert significantly_better_across_seeds(clearly, a)
    assert not significantly_better_across_seeds(noisy, a)
    assert not significantly_better_across_seeds(a, clearly)
    assert tie_aware_ranks([a, clearly, noisy], better=significantly_better_across_seeds) == [2, 1, 1]  # noisy: tied
    with pytest.raises(DataError, match="same >= 2 seeds"):
        significantly_better_across_seeds(a[:1], a[:1])
