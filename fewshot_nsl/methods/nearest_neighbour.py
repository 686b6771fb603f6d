"""Nearest-neighbour baseline (Ravi & Larochelle's row): a backbone trained on the base classes as one
classification problem; a query takes the label of its nearest support feature.

The logit of class j is the similarity to the closest support image of class j (cosine similarity, or minus
the squared Euclidean distance), so the argmax is the nearest neighbour's label.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..core.errors import ConfigError
from .pretrained import PretrainedMethod, PretrainedOptions
from .protonet import at_least_fp32, squared_euclidean
from .registry import register_method

METRICS = ("cosine", "euclidean")


@register_method("nn")
class NearestNeighbour(PretrainedMethod):
    """1-nearest-neighbour over the support features of a base-class-pretrained backbone."""

    @dataclass
    class Options(PretrainedOptions):
        """metric: ``cosine`` or ``euclidean`` (squared)."""

        metric: str = "cosine"

    def _build(self) -> None:
        super()._build()
        if self.options.metric not in METRICS:
            raise ConfigError(f"method.metric must be one of {', '.join(METRICS)}, got {self.options.metric!r}")

    def predict_from_features(
        self, support_features: torch.Tensor, support_labels: torch.Tensor, query_features: torch.Tensor, way: int
    ) -> torch.Tensor:
        """(S, D), (S,), (Q, D) -> (Q, way): per class, the best similarity to one of its support images."""
        if self.options.metric == "cosine":
            with torch.autocast(query_features.device.type, enabled=False):  # fp32, like the distances
                similarity = nn.functional.normalize(at_least_fp32(query_features), dim=1) @ nn.functional.normalize(
                    at_least_fp32(support_features), dim=1).t()
        else:
            similarity = -squared_euclidean(query_features, support_features)
        classes = torch.arange(way, device=support_labels.device)
        other = support_labels[None, None, :] != classes[None, :, None]  # (1, way, S)
        return similarity[:, None, :].masked_fill(other, float("-inf")).amax(dim=2)
