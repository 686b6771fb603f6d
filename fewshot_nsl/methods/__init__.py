"""Few-shot methods, one file each, registered by name (``fewshot-nsl train --method NAME``).

A new method is one file that subclasses :class:`FewShotMethod` and decorates it with ``@register_method(name)``
(from :mod:`.registry`), and optionally a preset ``configs/<name>.yaml``: every module of this package is
imported below, so no list needs editing.
"""

from __future__ import annotations

from typing import Type

from ..core.registry import import_builtins
from ..episodes.batch import EpisodeBatch
from .base import FewShotMethod, MethodOptions, accuracy
from .registry import METHODS, register_method

import_builtins(__name__, __path__)  # every module of this package registers its built-ins

__all__ = ["METHODS", "EpisodeBatch", "FewShotMethod", "MethodOptions", "accuracy", "get_method", "method_names",
           "register_method"]


def get_method(name: str) -> Type[FewShotMethod]:
    """The method class registered as ``name``; an unknown name raises ConfigError with the closest names."""
    return METHODS.get(name)


def method_names() -> list[str]:
    """Names of the registered methods, sorted."""
    return METHODS.names()
