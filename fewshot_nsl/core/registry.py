"""A small decorator registry (name -> factory), in the spirit of mmfewshot's, without global magic.

Example:
    >>> BACKBONES = Registry("backbone")
    >>> @BACKBONES.register("cnn4")
    ... class Conv4(nn.Module): ...
    >>> BACKBONES.get("cnn4")
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from typing import Callable, Dict, Generic, Iterable, Iterator, List, TypeVar

from .errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to factories (classes or functions)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: Dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator that registers ``obj`` under ``name``; a second registration of a name is an error."""

        def decorator(obj: T) -> T:
            if name in self._items and self._items[name] is not obj:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._items[name] = obj
            return obj

        return decorator

    def get(self, name: str) -> T:
        """The factory registered as ``name``; an unknown name raises ConfigError with the closest names."""
        try:
            return self._items[name]
        except KeyError:
            close = difflib.get_close_matches(name, list(self._items), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"unknown {self.kind} {name!r}{hint} (known: {', '.join(sorted(self._items))})"
            ) from None

    def names(self) -> List[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


def import_builtins(package: str, path: Iterable[str]) -> List[str]:
    """Import every public module of ``package`` (its ``__path__`` is ``path``), so that each built-in registers
    itself with its decorator; returns the module names.

    Every registry package (backbones, methods, data) calls this once from its ``__init__``: adding a built-in is
    then one file, with no list of modules to keep in step. Modules whose name starts with ``_`` are skipped.
    """
    names = sorted(info.name for info in pkgutil.iter_modules(list(path)) if not info.name.startswith("_"))
    for name in names:
        importlib.import_module(f"{package}.{name}")
    return names
