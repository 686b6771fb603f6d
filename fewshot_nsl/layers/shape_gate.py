"""Learned kernel shape: binary diagonal D = diag(d), d in {0, 1}^K, M_s = D M~ D (NSL_SPEC §5, our choice).

Each layer holds logits a (K,). With the straight-through estimator (default) the forward pass uses
d = 1[sigmoid(a) > 0.5] and the backward pass the gradient of sigmoid(a); ``mode="soft"`` (ablation) uses
d = sigmoid(a) in both passes. The sparsity penalty is l1 * sum_i sigmoid(a_i).
"""

from __future__ import annotations

from typing import List

import torch
from torch import nn

from ..core.errors import ConfigError

GATE_MODES = ("ste", "soft")


class ShapeGate(nn.Module):
    """The taps d (K,) of a kernel shape, learned by a straight-through sigmoid gate.

    Args:
        num_taps: K (9 for 3x3).
        init_logit: initial logit of every tap (+3: all taps on).
        l1: coefficient of the sparsity penalty l1 * sum(sigmoid(a)).
        mode: ``ste`` (binary forward, sigmoid backward) or ``soft`` (sigmoid in both passes).
    """

    def __init__(self, num_taps: int, init_logit: float = 3.0, l1: float = 1e-4, mode: str = "ste") -> None:
        super().__init__()
        if mode not in GATE_MODES:
            raise ConfigError(f"kernel-shape gate mode must be one of {', '.join(GATE_MODES)}, got {mode!r}")
        self.logits = nn.Parameter(torch.full((num_taps,), float(init_logit)))
        self.l1 = float(l1)
        self.mode = mode

    def forward(self) -> torch.Tensor:
        """d (K,): binary values in the forward pass (``ste``) with the sigmoid's gradient."""
        soft = torch.sigmoid(self.logits)
        if self.mode == "soft":
            return soft
        hard = (soft > 0.5).to(soft.dtype)
        return soft + (hard - soft).detach()

    def regularization(self) -> torch.Tensor:
        """l1 * sum_i sigmoid(a_i), a 0-d tensor."""
        return self.l1 * torch.sigmoid(self.logits).sum()

    def shape(self) -> List[int]:
        """The current binary shape, row-major (1 = tap on)."""
        return [int(v) for v in (self.logits.detach() > 0).tolist()]

    def extra_repr(self) -> str:
        return f"taps={self.logits.numel()}, mode={self.mode}, l1={self.l1:g}"
