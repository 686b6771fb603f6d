"""Supervised classification (generic recognition, NSL_SPEC §6): ``--method classifier``.

The backbone and a bias-free linear score layer over the training split's classes, trained on mini-batches
(``training_mode = "supervised"``; ``train.episodes`` counts iterations) with the released CIFAR recipe's loss:
label-smoothed cross-entropy (eps 0.01, targets (1 - eps) onehot + eps / K) plus an L2 term
``l2 * ||theta||^2 / 2`` on every parameter (kernels, predictors, BN gamma/beta, the score layer) **except** the
static similarity matrices M and the kernel-shape gates, which keep only their own regularisers
(:func:`fewshot_nsl.layers.regularizers.regularization`: static UNS M 5e-3, DNS m none). The released code sums
the L2 into the loss like this, which with SGD is weight decay; ``optim.weight_decay`` stays 0 so that M is not
decayed.

On ``cifar9`` (a 128x4x4 map, flattened) the score layer is exactly the spec's conv4x4 VALID score conv. The run
is scored by the classification evaluation (``evaluation_kind``): top-1 / top-5 error on the whole test split.
Given a few-shot episode it scores queries by the nearest support-class mean of the features (squared Euclidean),
so that the method still honours the episode interface.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..core.errors import ConfigError
from ..layers.nsconv import NSConv2d
from ..layers.predictors import he_normal_
from .base import FewShotMethod, MethodOptions, accuracy
from .protonet import squared_euclidean
from .registry import register_method


def regularised_by_their_layer(model: nn.Module) -> set[int]:
    """ids of the parameters that the L2 term leaves alone: static M and kernel-shape gates of NS layers."""
    out: set[int] = set()
    for m in model.modules():
        if isinstance(m, NSConv2d):
            if not m.dynamic:
                out.add(id(m.M))
            if m.gate is not None:
                out.update(id(p) for p in m.gate.parameters())
    return out


@register_method("classifier")
class Classifier(FewShotMethod):
    """Backbone + ``score`` (nn.Linear(D, num_base_classes, bias=False), He-normal) trained as one classifier."""

    @dataclass
    class Options(MethodOptions):
        """label_smoothing: eps of the smoothed targets (0.01, NSL_SPEC §6); l2: coefficient of the L2 term on
        every parameter but the static M (5e-4, NSL_SPEC §6)."""

        label_smoothing: float = 0.01
        l2: float = 5e-4

    training_mode = "supervised"
    evaluation_kind = "classification"

    def _build(self) -> None:
        if self.num_base_classes < 2:
            raise ConfigError(f"method classifier needs >= 2 classes, got {self.num_base_classes}")
        if not 0.0 <= self.options.label_smoothing < 1.0:
            raise ConfigError(f"method.label_smoothing must be in [0, 1), got {self.options.label_smoothing}")
        if self.options.l2 < 0:
            raise ConfigError(f"method.l2 must be >= 0, got {self.options.l2}")
        self.score = nn.Linear(self.backbone.feature_dim(self.image_shape), self.num_base_classes, bias=False)
        he_normal_(self.score.weight)  # fan-in He-normal, as every kernel of the released code

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, num_base_classes) class scores."""
        return self.score(self.backbone(images))

    def l2_term(self) -> torch.Tensor:
        """``l2 * sum ||theta||^2 / 2`` over the parameters the optimiser trains, static M and gates aside (0-d)."""
        skip = regularised_by_their_layer(self)
        squares = [p.square().sum() for p in self.parameters() if p.requires_grad and id(p) not in skip]
        return 0.5 * self.options.l2 * torch.stack(squares).sum()

    def supervised_loss(self, images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """Smoothed cross-entropy of (B, C, H, W) ``images`` with (B,) ``labels``, plus the L2 term."""
        logits = self.logits(images)
        loss = nn.functional.cross_entropy(logits, labels, label_smoothing=self.options.label_smoothing)
        if self.options.l2:
            loss = loss + self.l2_term()
        return loss, {"accuracy": float(accuracy(logits.detach(), labels))}

    def predict_from_features(
        self, support_features: torch.Tensor, support_labels: torch.Tensor, query_features: torch.Tensor, way: int
    ) -> torch.Tensor:
        """(S, D), (S,), (Q, D) -> (Q, way): minus the squared distance to each support class's mean feature."""
        onehot = nn.functional.one_hot(support_labels, way).to(support_features.dtype)
        means = (onehot.t() @ support_features) / onehot.sum(0).clamp_min(1)[:, None]
        return -squared_euclidean(query_features, means)
