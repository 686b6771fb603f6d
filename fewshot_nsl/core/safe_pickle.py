"""Reading pickles that may come from anywhere: a restricted unpickler that builds data and calls nothing else.

A pickle names the functions to call while it is read (``GLOBAL`` / ``STACK_GLOBAL`` opcodes), so a plain
``pickle.load`` of a downloaded file runs whatever it names. :func:`safe_load` resolves only the globals in an
allow-list; any other name raises ``pickle.UnpicklingError("refusing to load global module.name")`` before
anything of it is called. Dicts, lists, tuples, strings, bytes and numbers need no global and always load.
"""

from __future__ import annotations

import pickle
from collections.abc import Collection
from typing import IO, Any

__all__ = ["NUMPY_ARRAYS", "RestrictedUnpickler", "safe_load"]

#: the globals that rebuild numpy arrays, dtypes and scalars (under numpy 1's ``numpy.core`` and numpy 2's
#: ``numpy._core``), and the ordered dict of old pickles; none of them can call code named by the file
NUMPY_ARRAYS: frozenset[tuple[str, str]] = frozenset({
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("collections", "OrderedDict"),
    ("builtins", "bytearray"),
})


class RestrictedUnpickler(pickle.Unpickler):
    """A ``pickle.Unpickler`` that resolves only the ``(module, name)`` globals in ``allowed``."""

    def __init__(self, file: IO[bytes], allowed: Collection[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(file, **kwargs)
        self.allowed = frozenset(allowed)

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.allowed:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load global {module}.{name}")


def safe_load(file: IO[bytes], allowed: Collection[tuple[str, str]] = NUMPY_ARRAYS, encoding: str = "ASCII") -> Any:
    """Unpickle ``file`` resolving only the globals in ``allowed`` (default: numpy arrays and plain data).

    ``encoding``: how Python 2 ``str`` objects are decoded (``latin1`` for Python 2 pickles holding numpy arrays).

    Raises:
        pickle.UnpicklingError: the file names a global outside ``allowed`` (nothing of it has run), or is damaged.
    """
    return RestrictedUnpickler(file, allowed, encoding=encoding).load()
