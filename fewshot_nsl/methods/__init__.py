"""Few-shot methods, one file each, registered by name (``fewshot-nsl train --method NAME``).

A new method is one file that subclasses :class:`FewShotMethod` and decorates it with ``@register_method(name)``
(from :mod:`.registry`), plus its module name in the import line below (and, optionally, a preset).
"""

from __future__ import annotations

from typing import Type

from ..episodes.batch import EpisodeBatch
# the built-in methods register themselves on import
from . import finetune, maml, matchingnet, metastatic, nearest_neighbour, nsn, protonet, relationnet  # noqa: F401
from .base import FewShotMethod, MethodOptions, accuracy
from .registry import METHODS, register_method

__all__ = ["METHODS", "EpisodeBatch", "FewShotMethod", "MethodOptions", "accuracy", "get_method", "method_names",
           "register_method"]


def get_method(name: str) -> Type[FewShotMethod]:
    """The method class registered as ``name``; an unknown name raises ConfigError with the closest names."""
    return METHODS.get(name)


def method_names() -> list[str]:
    """Names of the registered methods, sorted."""
    return METHODS.names()
