"""Training checkpoints: written atomically, read back with ``torch.load(weights_only=True)``.

A checkpoint is a pickle, and a pickle can name any function to call while it is read. It is therefore loaded with
torch's restricted unpickler, which builds only tensors, containers and numbers, plus the few numpy types a
checkpoint of this package holds (the ``np.random.get_state()`` array of the saved random state). A file that
names anything else is refused with a :class:`CheckpointError` before any of it runs.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple, Union

import numpy as np
import torch

from ..core.atomic import atomic_write_bytes
from ..core.errors import CheckpointError

__all__ = ["load_checkpoint", "save_checkpoint", "SAFE_GLOBALS"]

_reconstruct = np._core.multiarray._reconstruct if hasattr(np, "_core") else np.core.multiarray._reconstruct

#: the non-torch globals a checkpoint may name: numpy arrays (and the uint32 dtype) rebuilt from bytes. Both module
#: paths of ``_reconstruct`` are listed so that a checkpoint pickled under numpy 1 (``numpy.core``) still loads.
SAFE_GLOBALS: List[Union[Callable[..., Any], Tuple[Callable[..., Any], str]]] = [
    np.ndarray,
    np.dtype,
    type(np.dtype(np.uint32)),  # numpy.dtypes.UInt32DType: the dtype of the MT19937 key array
    (_reconstruct, "numpy._core.multiarray._reconstruct"),
    (_reconstruct, "numpy.core.multiarray._reconstruct"),
]


def save_checkpoint(state: Dict[str, Any], path: Path) -> None:
    """``torch.save`` ``state`` to ``path`` atomically."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(Path(path), buffer.getvalue())


def _refused_globals(path: Path) -> List[str]:
    """The globals ``path`` names beyond torch's own and :data:`SAFE_GLOBALS` (found without running any)."""
    allowed = {name if isinstance(name, str) else f"{name.__module__}.{name.__qualname__}"
               for name in (g[1] if isinstance(g, tuple) else g for g in SAFE_GLOBALS)}
    try:
        named = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception:  # noqa: BLE001 - an unreadable file is reported by the caller's own error
        return []
    return [g for g in named if g not in allowed]


#: how torch's restricted unpickler starts the message of any failure
_WEIGHTS_ONLY = "Weights only load failed"
#: words of its message when it met a global or type it does not build (rather than a damaged file)
_REFUSAL_WORDS = ("GLOBAL", "add_safe_globals")


def _detail(exc: BaseException) -> str:
    """The informative line of ``exc`` (torch wraps the reason of a weights-only failure in advice paragraphs)."""
    boiler = (_WEIGHTS_ONLY, "Please file an issue", "Check the documentation")
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    useful = [ln for ln in lines if not ln.startswith(boiler)]
    return (useful or lines or [type(exc).__name__])[0]


def load_checkpoint(path: Path, map_location: Any = "cpu") -> Dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint`, with a clear error when it is not one.

    Raises:
        CheckpointError: the file is missing, unreadable, names a global that is not allow-listed (its code is
            never run), or does not hold a fewshot-nsl checkpoint.
    """
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        with torch.serialization.safe_globals(SAFE_GLOBALS):
            state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure to unpickle means the file is not a checkpoint
        named = _refused_globals(path) if isinstance(exc, pickle.UnpicklingError) else []
        if named or any(word in str(exc) for word in _REFUSAL_WORDS):
            what = f"it names {', '.join(named)}" if named else _detail(exc)
            raise CheckpointError(f"checkpoint {path} refused by the safe loader ({what}; nothing of it was run); "
                                  "a fewshot-nsl checkpoint holds only tensors, numbers, strings and containers") \
                from None
        raise CheckpointError(f"checkpoint {path} cannot be read ({type(exc).__name__}: {_detail(exc)})") from None
    if not isinstance(state, dict) or "model" not in state:
        raise CheckpointError(f"{path} is not a fewshot-nsl checkpoint")
    return state
