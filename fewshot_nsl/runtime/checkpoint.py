"""Checkpoints: ``torch.save`` written atomically (:mod:`..core.atomic`), and read back with a clear error."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Dict

import torch

from ..core.atomic import atomic_write_bytes, atomic_write_text
from ..core.errors import CheckpointError

__all__ = ["atomic_write_bytes", "atomic_write_text", "load_checkpoint", "save_checkpoint"]


def save_checkpoint(state: Dict[str, Any], path: Path) -> None:
    """``torch.save`` ``state`` to ``path`` atomically."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(Path(path), buffer.getvalue())


def load_checkpoint(path: Path, map_location: Any = "cpu") -> Dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint`, with a clear error when it is not one."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location=map_location, weights_only=False)
    except Exception as exc:  # noqa: BLE001 - any failure to unpickle means the file is not a checkpoint
        raise CheckpointError(f"checkpoint {path} cannot be read ({type(exc).__name__}: {exc})") from None
    if not isinstance(state, dict) or "model" not in state:
        raise CheckpointError(f"{path} is not a fewshot-nsl checkpoint")
    return state
