"""Few-shot methods, one file each, registered by name (``fewshot-nsl train --method NAME``)."""

from __future__ import annotations

import importlib
from typing import Type

from ..core.registry import Registry
from .base import EpisodeBatch, FewShotMethod, MethodOptions, accuracy

METHODS: Registry[Type[FewShotMethod]] = Registry("method")
register_method = METHODS.register

#: modules of the built-in methods, imported on first use
_BUILTIN = ("protonet", "relationnet", "maml", "matchingnet", "finetune", "nearest_neighbour", "nsn", "metastatic")

__all__ = ["METHODS", "EpisodeBatch", "FewShotMethod", "MethodOptions", "accuracy", "get_method", "register_method"]


def _load_builtins() -> None:
    for module in _BUILTIN:
        try:
            importlib.import_module(f"{__name__}.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{module}":
                raise


def get_method(name: str) -> Type[FewShotMethod]:
    """The method class registered as ``name``."""
    _load_builtins()
    return METHODS.get(name)


def method_names() -> list[str]:
    _load_builtins()
    return METHODS.names()
