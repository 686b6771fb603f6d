"""The method registry: built-in methods register here with ``@register_method(name)``.

A built-in module imports this file, never the package ``__init__`` (which imports the built-ins).
"""

from __future__ import annotations

from typing import Type

from ..core.registry import Registry
from .base import FewShotMethod

METHODS: Registry[Type[FewShotMethod]] = Registry("method")
register_method = METHODS.register

__all__ = ["METHODS", "register_method"]
