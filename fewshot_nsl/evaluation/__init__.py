"""Evaluation on fixed episodes (mean ± 1.96·σ/√n, σ population std), paired comparisons, figures.

Accuracies in :class:`EvalResult` (and in its saved JSON) are fractions; printed lines show percent.
"""

from .evaluator import episode_accuracies, evaluate
from .loading import FewShotModel, load_model
from .result import EvalResult, compare_results, load_result, save_result
from ..core.stats import CI_FORMULA, mean_ci95, paired_difference, tie_aware_ranks

__all__ = [
    "CI_FORMULA", "EvalResult", "FewShotModel", "compare_results", "episode_accuracies", "evaluate", "load_model",
    "load_result", "mean_ci95", "paired_difference", "save_result", "tie_aware_ranks",
]
