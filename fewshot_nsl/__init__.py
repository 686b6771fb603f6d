"""fewshot-nsl: few-shot learning with Neural Similarity Learning (Liu et al., NeurIPS 2019).

``fewshot_nsl.load_model(run_dir)`` loads a trained run (see :mod:`fewshot_nsl.evaluation.loading`); it is
imported on first use so that ``import fewshot_nsl`` stays light.
"""

from typing import Any

__all__ = ["FewShotModel", "load_model"]


def __getattr__(name: str) -> Any:
    if name in ("load_model", "FewShotModel"):
        from .evaluation import loading

        return getattr(loading, name)
    raise AttributeError(f"module 'fewshot_nsl' has no attribute {name!r}")
