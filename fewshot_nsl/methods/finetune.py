"""Fine-tuning baseline (CloserLook "Baseline"): train backbone + linear classifier on the base classes;
at test time freeze the backbone and fit a new linear classifier on each episode's support features.

Support fitting (CloserLook ``baselinefinetune``): ``epochs`` passes over the shuffled support set in
mini-batches of ``batch_size``, SGD (lr 0.01, momentum 0.9, dampening 0.9, weight decay 1e-3), a freshly
initialised nn.Linear(D, way) (PyTorch's default uniform init). Everything random in the fit draws from a
generator seeded by a hash of the support features and labels, so a prediction is a function of its inputs.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import torch
from torch import nn

from ..core.errors import ConfigError
from .pretrained import PretrainedMethod, PretrainedOptions
from .protonet import at_least_fp32
from .registry import register_method


def feature_seed(*tensors: torch.Tensor) -> int:
    """A 63-bit seed that is a function of the exact contents of ``tensors``."""
    digest = hashlib.blake2b(digest_size=8)
    for t in tensors:
        digest.update(t.detach().cpu().contiguous().numpy().tobytes())
    return int.from_bytes(digest.digest(), "little") >> 1


@register_method("finetune")
class FineTune(PretrainedMethod):
    """Base-class pre-training, then a new linear classifier per episode on frozen support features."""

    @dataclass
    class Options(PretrainedOptions):
        """Support-fitting recipe: epochs, batch_size, lr, momentum, dampening, weight_decay (SGD)."""

        epochs: int = 100
        batch_size: int = 4
        lr: float = 0.01
        momentum: float = 0.9
        dampening: float = 0.9
        weight_decay: float = 1e-3

    def _build(self) -> None:
        super()._build()
        o = self.options
        for key in ("epochs", "batch_size"):
            if getattr(o, key) < 1:
                raise ConfigError(f"method.{key} must be >= 1, got {getattr(o, key)}")
        if o.lr <= 0:
            raise ConfigError(f"method.lr must be > 0, got {o.lr}")

    def predict_from_features(
        self, support_features: torch.Tensor, support_labels: torch.Tensor, query_features: torch.Tensor, way: int
    ) -> torch.Tensor:
        """(S, D), (S,), (Q, D) -> (Q, way) logits (detached) of a linear classifier fitted on the support."""
        # fp32 whatever the features' dtype or an active autocast: the fit is a small training run of its own,
        # and its weights, loss and SGD state stay fp32 like the trainer's
        with torch.autocast(support_features.device.type, enabled=False):
            return self._fit_linear(at_least_fp32(support_features.detach()), support_labels,
                                    at_least_fp32(query_features.detach()), way)

    def _fit_linear(self, support: torch.Tensor, support_labels: torch.Tensor, query: torch.Tensor,
                    way: int) -> torch.Tensor:
        """The classifier of :meth:`predict_from_features` on (S, D) fp32 ``support``; (Q, way) query logits."""
        o = self.options
        generator = torch.Generator().manual_seed(feature_seed(support, support_labels))
        dim = support.shape[1]
        bound = 1.0 / math.sqrt(dim)
        weight = torch.empty(way, dim).uniform_(-bound, bound, generator=generator)
        bias = torch.empty(way).uniform_(-bound, bound, generator=generator)
        weight = weight.to(support).requires_grad_()
        bias = bias.to(support).requires_grad_()
        optimizer = torch.optim.SGD([weight, bias], lr=o.lr, momentum=o.momentum, dampening=o.dampening,
                                    weight_decay=o.weight_decay)
        with torch.enable_grad():
            for _ in range(o.epochs):
                order = torch.randperm(len(support), generator=generator).to(support.device)
                for start in range(0, len(support), o.batch_size):
                    batch = order[start:start + o.batch_size]
                    logits = nn.functional.linear(support[batch], weight, bias)
                    loss = nn.functional.cross_entropy(logits, support_labels[batch])
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
        with torch.no_grad():
            return nn.functional.linear(query, weight, bias)
