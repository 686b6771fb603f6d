"""What a training checkpoint holds, and the checks before one is resumed.

A checkpoint (``checkpoints/last.pt`` / ``best.pt``) is a dict: ``model``, ``optimizer``, ``scheduler``,
``scaler`` (state dicts), ``step``, ``episodes_seen``, ``rng`` (see :mod:`.rng_state`), ``metrics`` (the records
of ``metrics.jsonl`` so far), ``best_accuracy`` (fraction), ``config`` (dict), ``image_shape`` (C, H, W),
``num_base_classes``, ``mean``/``std`` (0-255 units), ``world_size`` and ``wall_s``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import torch

from ..core.errors import CheckpointError, ConfigError
from ..runtime.config import RESUMABLE_CHANGES, Config, changed_settings
from ..runtime.run_dir import RunDir


def check_same_config(run: RunDir, config: Config) -> None:
    """ConfigError naming the first setting of ``config`` that differs from the run's saved one (resumable aside)."""
    if not run.config.exists():
        return
    for key, old, new in changed_settings(run.config, config, RESUMABLE_CHANGES):
        raise ConfigError(
            f"run directory {run.root} was made with {key}={old!r}, not {new!r}; "
            "use another --out, or --no-resume to start it afresh"
        )


def load_model_state(method: torch.nn.Module, state: Dict[str, Any], path: Path) -> None:
    """Load the checkpoint's weights into ``method``; CheckpointError (one line) when they do not fit."""
    try:
        method.load_state_dict(state["model"])
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise CheckpointError(f"checkpoint {path} does not fit this model ({first})") from None


def check_world_size(state: Dict[str, Any], path: Path, world_size: int) -> None:
    """CheckpointError unless the checkpoint was written by ``world_size`` processes (the stream depends on it)."""
    if state.get("world_size", 1) != world_size:
        raise CheckpointError(
            f"checkpoint {path} was written by {state.get('world_size', 1)} processes, not "
            f"{world_size}; resume with the same --nproc"
        )
