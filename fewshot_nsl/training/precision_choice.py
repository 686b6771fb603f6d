"""Which precision a training run computes in, decided once when the trainer starts and saved in ``config.yaml``.

``train.precision`` may say ``auto``; what is recorded is always the resolved name (fp32, bf16 or fp16), so a
result can say what produced it and a resume can check it. Resuming an ``auto`` run keeps the precision the run
was made with, even on a machine where ``auto`` would resolve otherwise (same numbers as an uninterrupted run);
an explicit precision that differs from the saved one is refused by the resume check, like any other setting.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional

import torch

from ..runtime.config import Config, TrainConfig
from ..runtime.precision import resolve_precision
from ..runtime.settings_diff import saved_config

__all__ = ["run_precision", "with_precision"]


def run_precision(train: TrainConfig, device: torch.device, saved: Optional[Path] = None) -> str:
    """The resolved precision of a run with settings ``train`` on ``device``.

    ``saved`` is the run's ``config.yaml`` when it is being resumed (None for a fresh start). ``auto`` takes the
    saved run's precision when there is one; else the deprecated ``train.amp`` (earlier versions: fp16 autocast
    on CUDA, nothing elsewhere) when it is set; else :func:`~fewshot_nsl.runtime.precision.resolve_precision`.
    """
    if train.precision != "auto":
        return resolve_precision(train.precision, device)
    if saved is not None and saved.exists():
        previous = saved_config(saved).train.precision
        if previous != "auto":  # a config.yaml written by hand may say auto; the trainer's never does
            return previous
    if train.amp:
        return "fp16" if device.type == "cuda" else "fp32"
    return resolve_precision("auto", device)


def with_precision(config: Config, precision: str) -> Config:
    """``config`` with ``train.precision`` set to ``precision`` (the resolved name, as saved)."""
    return dataclasses.replace(config, train=dataclasses.replace(config.train, precision=precision))
