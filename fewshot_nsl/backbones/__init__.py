"""Backbones: a registry of built-ins, plus a user's own via ``module:Class`` or the entry-point group
``fewshot_nsl.backbones``.

Example:
    >>> from fewshot_nsl import backbones
    >>> net = backbones.build("cnn4", nsl="dynamic-dns")
    >>> net.feature_dim((3, 84, 84))
    1600
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from typing import Any, Callable

from torch import nn

from ..core.errors import ConfigError
from ..core.registry import import_builtins
from ..layers.options import NSOptions
from .base import Backbone, WrappedBackbone
from .registry import BACKBONES, register_backbone

import_builtins(__name__, __path__)  # every module of this package registers its built-ins

ENTRY_POINT_GROUP = "fewshot_nsl.backbones"
#: the base channel count of the built-ins (``model.width``); a user's factory gets ``width`` only when it differs
#: from this (and must then accept it), so at the default it keeps its own
DEFAULT_WIDTH = 64

__all__ = ["BACKBONES", "Backbone", "WrappedBackbone", "build", "register_backbone", "available"]


def _entry_point(name: str) -> Callable[..., nn.Module] | None:
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            return ep.load()
    return None


def _import_target(target: str) -> Callable[..., nn.Module]:
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"backbone {target!r}: cannot import module {module_name!r} ({exc})") from None
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ConfigError(f"backbone {target!r}: module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


def _resolve(name: str) -> Callable[..., nn.Module]:
    if ":" in name:
        return _import_target(name)
    if name in BACKBONES:
        return BACKBONES.get(name)
    found = _entry_point(name)
    if found is not None:
        return found
    return BACKBONES.get(name)  # raises with the closest known names


def available() -> list[str]:
    """Names of the built-in and entry-point backbones."""
    from importlib.metadata import entry_points

    return sorted(set(BACKBONES.names()) | {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


def build(name: str, in_channels: int = 3, ns: NSOptions | None = None, **options: Any) -> Backbone:
    """Build backbone ``name`` (a registered name, an entry point, or ``package.module:Class``).

    NS options go to the built-in backbones, as one :class:`NSOptions` ``ns`` or as its fields by keyword
    (``nsl``, ``param``, ``learn_shape``, ...; a keyword wins over ``ns``); a user's factory receives the options
    its signature accepts (``in_channels`` and any ``**kwargs``), and a user's module is wrapped to offer
    ``forward_map``/``feature_dim``. ``width`` (``model.width``) is every built-in's base channel count.
    """
    factory = _resolve(name)
    ns_keys = {f.name for f in dataclasses.fields(NSOptions)}
    given = {k: v for k, v in options.items() if k in ns_keys and v is not None}
    ns = dataclasses.replace(ns or NSOptions(), **given)
    rest = {k: v for k, v in options.items() if k not in ns_keys}
    if getattr(factory, "accepts_ns_options", False):
        module = factory(in_channels=in_channels, ns=ns, **rest)
    else:
        if ns.is_ns:
            raise ConfigError(f"backbone {name!r} does not support nsl={ns.nsl!r}; use cnn4 or cnn9")
        params = inspect.signature(factory).parameters
        takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        if rest.get("width") == DEFAULT_WIDTH:
            rest.pop("width")  # the default: a user's factory keeps its own
        kwargs = {"in_channels": in_channels, **rest}
        kwargs = {k: v for k, v in kwargs.items() if takes_kwargs or k in params}
        if "width" in rest and "width" not in kwargs:
            raise ConfigError(f"backbone {name!r} takes no width argument; drop width={rest['width']}")
        module = factory(**kwargs)
    if not isinstance(module, nn.Module):
        raise ConfigError(f"backbone {name!r} did not return an nn.Module (got {type(module).__name__})")
    return module if isinstance(module, Backbone) else WrappedBackbone(module)
