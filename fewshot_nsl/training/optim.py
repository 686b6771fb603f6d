"""The optimiser (``optim.optimizer``: adam or sgd) and its StepLR (or MultiStepLR) schedule, counted in optimiser
steps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Dict, List

import torch

from ..core.errors import ConfigError
from ..runtime.config import Config

Params = List[torch.nn.Parameter]


def _adam(config: Config, params: Params) -> torch.optim.Optimizer:
    o = config.optim
    return torch.optim.Adam(params, lr=o.lr, weight_decay=o.weight_decay)


def _sgd(config: Config, params: Params) -> torch.optim.Optimizer:
    o = config.optim
    return torch.optim.SGD(params, lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay, nesterov=False)


#: ``optim.optimizer`` -> factory(config, params)
OPTIMIZERS: Dict[str, Callable[[Config, Params], torch.optim.Optimizer]] = {"adam": _adam, "sgd": _sgd}


def build_optimizer(config: Config, params: Params) -> torch.optim.Optimizer:
    """The optimiser named by ``config.optim.optimizer`` over ``params``; ConfigError for another name."""
    factory = OPTIMIZERS.get(config.optim.optimizer)
    if factory is None:
        raise ConfigError(f"setting optim.optimizer must be 'adam' or 'sgd', got {config.optim.optimizer!r}")
    return factory(config, params)


def build_scheduler(config: Config, optimizer: torch.optim.Optimizer,
                    global_batch: int) -> torch.optim.lr_scheduler.LRScheduler:
    """StepLR that multiplies the rate by ``optim.lr_gamma`` every ``optim.lr_step`` training episodes, or, with
    ``optim.lr_milestones``, MultiStepLR that does so at each milestone (training episodes).

    The scheduler steps once per optimiser step, and a step consumes ``global_batch`` episodes (meta-batch times
    the number of processes), so its period is ``lr_step / global_batch`` steps, at least one (a milestone m is
    step ``round(m / global_batch)``).
    """
    milestones = config.optim.lr_milestones
    if milestones is not None:
        if not all(type(m) is int and m > 0 for m in milestones) or list(milestones) != sorted(set(milestones)):
            raise ConfigError(f"setting optim.lr_milestones must be increasing positive integers, got {milestones!r}")
        steps = [max(1, round(m / global_batch)) for m in milestones]
        return torch.optim.lr_scheduler.MultiStepLR(optimizer, steps, gamma=config.optim.lr_gamma)
    step_size = max(1, round(config.optim.lr_step / global_batch))
    return torch.optim.lr_scheduler.StepLR(optimizer, step_size, gamma=config.optim.lr_gamma)
