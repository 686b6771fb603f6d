"""Imports every built-in reader so that each registers its :class:`~fewshot_nsl.data.DatasetSpec`."""

from . import folder, miniimagenet, omniglot, synthetic

__all__ = ["folder", "miniimagenet", "omniglot", "synthetic"]
