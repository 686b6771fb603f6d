"""Validation during training: a :class:`Validator` scores the fixed validation episodes, this module shards them
over the processes, gathers the per-episode accuracies back in episode order and summarises them.

The trainer does not know how an episode is scored; whoever builds it passes a validator (the evaluator's
:func:`~fewshot_nsl.evaluation.evaluator.episode_accuracies`, joined in :mod:`fewshot_nsl.experiments.train_run`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Dict, Protocol

import numpy as np
import torch

from ..core.stats import mean_ci95
from ..runtime.distributed import DistInfo, all_gather_floats
from ..runtime.precision import autocast

#: ``transform(uint8 (N, H, W, C)) -> float (N, C, H, W)``
Transform = Callable[..., torch.Tensor]


class Validator(Protocol):
    """Scores a method on episodes: ``(episodes,)`` float64 accuracies as **fractions**, in episode order.

    ``images`` is the split the episodes index into (an ImageSet: ``images`` (N, H, W, C) uint8), ``transform``
    never augments. The method's train/eval mode must be the same on return as on entry.
    """

    def __call__(self, method: torch.nn.Module, images: Any, episodes: Sequence[Any], transform: Transform,
                 device: torch.device) -> np.ndarray: ...


def as_logged(fraction: float) -> float:
    """``fraction`` as ``metrics.jsonl`` has always recorded it: through percent and back, ``(x * 100) / 100``.

    Earlier versions scored episodes in percent and divided by 100 here; for some k/n that round trip differs
    from k/n in the last bit (1/3 does). Kept so that a run resumed from an older checkpoint, and every fixed-seed
    metrics file, stays bit-identical (which validation is "best" is decided on these numbers).
    """
    return (float(fraction) * 100.0) / 100.0


def validate_sharded(validator: Validator, method: torch.nn.Module, images: Any, episodes: Sequence[Any],
                     transform: Transform, device: torch.device, dist: DistInfo,
                     precision: str = "fp32") -> Dict[str, float]:
    """``{"val_accuracy", "val_ci95"}`` (fractions) of ``method`` on all ``episodes``, each process scoring a shard.

    Rank r scores episodes r, r + world_size, ...; every rank first takes rank 0's buffers (BatchNorm running
    statistics) so that all score the same model. The validator's forward passes run in ``precision`` (resolved:
    fp32, bf16 or fp16), as training's do; the accuracies and their CI are float64 whatever it is. The CI is
    :func:`~fewshot_nsl.core.stats.mean_ci95`.
    """
    if dist.enabled:  # every rank evaluates rank 0's model, BN running statistics included
        for buffer in method.buffers():
            torch.distributed.broadcast(buffer, 0)
    mine = episodes[dist.rank:: dist.world_size]
    with autocast(precision, device):
        fractions = validator(method, images, mine, transform, device)
    ordered = all_gather_floats([as_logged(a) for a in fractions], dist)
    # all_gather returns rank-major blocks; restore episode order
    per_rank = [list(range(len(episodes)))[r:: dist.world_size] for r in range(dist.world_size)]
    accs = np.empty(len(episodes))
    accs[[i for block in per_rank for i in block]] = ordered
    mean, ci = mean_ci95(accs)
    return {"val_accuracy": mean, "val_ci95": ci}
