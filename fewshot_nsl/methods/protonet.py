"""Prototypical Networks (Snell et al., 2017): squared Euclidean distance to class means."""

from __future__ import annotations

import torch

from .base import FewShotMethod
from .registry import register_method


def at_least_fp32(t: torch.Tensor) -> torch.Tensor:
    """``t`` in float32, or as it is when it is already fp32 or wider (float64 stays float64, e.g. in gradcheck)."""
    return t.to(torch.promote_types(t.dtype, torch.float32))


def prototypes(features: torch.Tensor, labels: torch.Tensor, way: int) -> torch.Tensor:
    """(S, D) features with (S,) labels in [0, way) -> (way, D) class means."""
    sums = torch.zeros(way, features.shape[1], dtype=features.dtype, device=features.device)
    sums.index_add_(0, labels, features)
    counts = torch.bincount(labels, minlength=way).clamp_min(1).to(features.dtype)
    return sums / counts[:, None]


def squared_euclidean(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(Q, D), (W, D) -> (Q, W) squared distances, in float32 whatever the inputs' dtype or an active autocast.

    Why fp32: |a|^2 - 2 a.b + |b|^2 subtracts numbers of similar size, so bf16's 8-bit mantissa (relative error
    4e-3 on each term of size ~D) would leave errors as large as the distance differences between classes.
    """
    with torch.autocast(a.device.type, enabled=False):
        a, b = at_least_fp32(a), at_least_fp32(b)
        return (a.pow(2).sum(1, keepdim=True) - 2 * a @ b.t() + b.pow(2).sum(1)[None, :]).clamp_min(0)


@register_method("protonet")
class ProtoNet(FewShotMethod):
    """Logits are negative squared Euclidean distances from each query to each class prototype."""

    def predict_from_features(
        self, support_features: torch.Tensor, support_labels: torch.Tensor, query_features: torch.Tensor, way: int
    ) -> torch.Tensor:
        """(S, D), (S,), (Q, D) -> (Q, way) logits (float32: the class means and distances are summed in fp32)."""
        means = prototypes(at_least_fp32(support_features), support_labels, way)
        return -squared_euclidean(query_features, means)
