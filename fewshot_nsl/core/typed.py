"""Typed dataclasses from nested dicts: every key known, every value of its annotated type.

:func:`from_dict` builds a dataclass (and its nested dataclasses) from a mapping read from YAML or the command
line. An unknown key is refused with the closest valid name; a value of the wrong type, or outside a
``typing.Literal``'s choices, is refused with one line naming the setting. Supported annotations: ``bool``,
``int``, ``float`` (an int is accepted and converted), ``str``, ``Literal[...]``, ``Optional[...]`` / ``Union``,
``list`` / ``List[...]``, ``dict`` / ``Dict[...]`` (their items are not checked) and nested dataclasses.

Example:
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Optim:
    ...     optimizer: Literal["adam", "sgd"] = "adam"
    ...     lr: float = 1e-3
    >>> from_dict(Optim, {"lr": 1}, "optim")
    Optim(optimizer='adam', lr=1.0)
"""

from __future__ import annotations

import dataclasses
import difflib
import typing
from typing import Any, Dict, List, Literal

from .errors import ConfigError

__all__ = ["check_fields", "check_value", "field_names", "flatten", "from_dict", "merge"]


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return " or ".join(_type_name(a) for a in args) + " or null"
    if origin is Literal:
        return "one of " + ", ".join(str(a) for a in typing.get_args(tp))
    return getattr(tp, "__name__", str(tp))


def check_value(tp: Any, value: Any, key: str) -> Any:
    """``value`` as annotation ``tp`` wants it (an int becomes a float for ``float``); ConfigError naming ``key``
    when it does not fit."""
    origin = typing.get_origin(tp)
    if origin is typing.Union:
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return check_value(arg, value, key)
            except ConfigError:
                pass
        raise ConfigError(f"setting {key}: expected {_type_name(tp)}, got {value!r}")
    if origin is Literal:
        if any(value == choice and type(value) is type(choice) for choice in typing.get_args(tp)):
            return value
        raise ConfigError(f"setting {key}: expected {_type_name(tp)}, got {value!r}")
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"setting {key}: expected a mapping, got {value!r}")
        return value
    if origin in (list, tuple) or tp in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"setting {key}: expected a list, got {value!r}")
        return list(value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"setting {key}: expected bool (true/false), got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"setting {key}: expected int, got {value!r}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"setting {key}: expected float, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"setting {key}: expected str, got {value!r}")
    return value


def field_names(cls: Any, prefix: str = "") -> List[str]:
    """Dotted names of every leaf setting of dataclass ``cls`` (nested dataclasses expanded)."""
    names = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            names += field_names(tp, f"{prefix}{f.name}.")
        else:
            names.append(f"{prefix}{f.name}")
    return names


def _unknown(key: str, valid: List[str]) -> ConfigError:
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return ConfigError(f"unknown setting {key!r}{hint}")


def from_dict(cls: Any, values: Dict[str, Any], prefix: str = "") -> Any:
    """Instantiate dataclass ``cls`` from a (nested) dict, checking every key and type; ``prefix`` is the dotted
    name of ``values`` in error messages (``""`` at the top)."""
    if not isinstance(values, dict):
        raise ConfigError(f"setting {prefix}: expected a mapping, got {values!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        full = f"{prefix}.{key}" if prefix else str(key)
        if key not in fields:
            raise _unknown(full, field_names(cls, f"{prefix}." if prefix else ""))
        tp = hints[key]
        kwargs[key] = from_dict(tp, value, full) if dataclasses.is_dataclass(tp) else check_value(tp, value, full)
    return cls(**kwargs)


def check_fields(instance: Any, prefix: str = "") -> None:
    """Check the current values of dataclass ``instance`` against its annotations (for a ``__post_init__``, so
    an object made in Python obeys the same types and choices as one read from a config)."""
    hints = typing.get_type_hints(type(instance))
    for f in dataclasses.fields(instance):
        if not dataclasses.is_dataclass(hints[f.name]):
            check_value(hints[f.name], getattr(instance, f.name), f"{prefix}{f.name}")


def merge(base: Dict[str, Any], update: Dict[str, Any]) -> Dict[str, Any]:
    """``base`` updated by ``update``, recursively for nested mappings (neither argument is changed)."""
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def flatten(d: Dict[str, Any], prefix: str = "") -> Dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``."""
    out: Dict[str, Any] = {}
    for k, v in d.items():
        out.update(flatten(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
    return out
