"""YAML as the project reads it: PyYAML's safe loader, with numbers such as ``5e-4`` read as numbers.

PyYAML follows YAML 1.1, whose float needs a dot: ``safe_load("5e-4")`` is the *string* ``'5e-4'``, so
``--set optim.lr=5e-4`` or ``lr: 1e-4`` in a config would be refused as "expected float". :class:`Loader` adds
the YAML 1.2 float forms (``1e3``, ``1E3``, ``-2.5e-3``, ``5e-4``). Every config, preset and saved
``config.yaml`` is read through :func:`load_yaml`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict

import yaml

from ..core.errors import ConfigError

__all__ = ["Loader", "dump_yaml", "load_yaml", "read_yaml"]


class Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` whose floats also take an exponent without a dot (``1e-4``)."""


# PyYAML copies the resolver table into a subclass on its first change, so yaml.SafeLoader is untouched.
Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def load_yaml(text: str) -> Any:
    """The YAML document ``text`` as Python values (safe: plain data only)."""
    return yaml.load(text, Loader=Loader)  # noqa: S506 - Loader is a SafeLoader


def dump_yaml(data: Dict[str, Any]) -> str:
    """``data`` as YAML, keys in their order (what :func:`load_yaml` reads back to the same values)."""
    return yaml.safe_dump(data, sort_keys=False)


def read_yaml(path: str | Path) -> Dict[str, Any]:
    """A YAML mapping from ``path``, with a clear error for a missing or malformed file."""
    path = Path(path)
    try:
        data = load_yaml(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping, not {type(data).__name__}")
    return data
