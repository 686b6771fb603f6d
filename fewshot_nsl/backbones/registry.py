"""The backbone registry: built-in backbones register here with ``@register_backbone(name)``.

A built-in module imports this file, never the package ``__init__`` (which imports the built-ins).
"""

from __future__ import annotations

from typing import Callable

from torch import nn

from ..core.registry import Registry

BACKBONES: Registry[Callable[..., nn.Module]] = Registry("backbone")
register_backbone = BACKBONES.register

__all__ = ["BACKBONES", "register_backbone"]
