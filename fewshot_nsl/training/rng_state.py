"""Snapshot and restore of every random generator training touches (torch, CUDA, NumPy, Python).

A checkpoint stores the snapshot so that a resumed run draws the very numbers the uninterrupted run would have.
"""

from __future__ import annotations

import random
from typing import Any, Dict

import numpy as np
import torch


def rng_state() -> Dict[str, Any]:
    """The state of the torch, NumPy and Python generators (and of every CUDA device's, when there is CUDA)."""
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Dict[str, Any]) -> None:
    """Restore a snapshot of :func:`rng_state`; the CUDA part only when this machine has CUDA."""
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
