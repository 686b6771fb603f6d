"""Base of the methods trained on the base classes as one classification problem (``training_mode =
"supervised"``): backbone + a linear classifier over ``num_base_classes``, cross-entropy on mini-batches.

At test time the base-class classifier is dropped; subclasses implement :meth:`predict_from_features` on the
frozen backbone's features of each episode.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..core.errors import ConfigError
from .base import FewShotMethod, MethodOptions, accuracy


@dataclass
class PretrainedOptions(MethodOptions):
    """label_smoothing: epsilon of the label-smoothed cross-entropy of the base-class training."""

    label_smoothing: float = 0.0


class PretrainedMethod(FewShotMethod):
    """Backbone + ``classifier`` (nn.Linear(D, num_base_classes)) trained with :meth:`supervised_loss`."""

    Options = PretrainedOptions
    training_mode = "supervised"

    def _build(self) -> None:
        if self.num_base_classes < 2:
            raise ConfigError(f"method {type(self).__name__} needs >= 2 base classes, got {self.num_base_classes}")
        if not 0.0 <= self.options.label_smoothing < 1.0:
            raise ConfigError(f"method.label_smoothing must be in [0, 1), got {self.options.label_smoothing}")
        self.classifier = nn.Linear(self.backbone.feature_dim(self.image_shape), self.num_base_classes)

    def supervised_loss(self, images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """Cross-entropy of (B, C, H, W) base-class ``images`` with (B,) ``labels`` in [0, num_base_classes)."""
        logits = self.classifier(self.backbone(images))
        loss = nn.functional.cross_entropy(logits, labels, label_smoothing=self.options.label_smoothing)
        return loss, {"accuracy": float(accuracy(logits.detach(), labels))}
