"""The one place training gets the NS regularisers from (NSL_SPEC §2.1, §5)."""

from __future__ import annotations

import torch
from torch import nn

from .nsconv import NSConv2d


def regularization(model: nn.Module) -> torch.Tensor:
    """Sum of every NS layer's :meth:`NSConv2d.regularization` (static UNS 5e-3 * ||M||^2 / 2, kernel-shape
    L1, ...), a 0-d tensor on the model's device; 0 when the model has no NS layer.

    Weight decay on W, predictors and BN is the optimiser's business (``optim.weight_decay``), not this.
    """
    terms = [m.regularization() for m in model.modules() if isinstance(m, NSConv2d)]
    if terms:
        return torch.stack(terms).sum()
    param = next(model.parameters(), None)
    return torch.zeros((), device=param.device if param is not None else None)
