"""Matching Networks (Vinyals et al., 2016): cosine attention over the support set.

p(y | x) = sum_i a(x, x_i) onehot(y_i), with a = softmax over the support of ``scale * cos(f(x), g(x_i))``.
The logits returned are log p (their log-softmax is themselves, so cross-entropy on them is the paper's
negative log-likelihood). ``scale`` = 1 is the paper's plain cosine softmax (CloserLook uses 100).

Full context embeddings (``fce: true``; the row quoted in the NSL table, 55.31, is Matching Nets *with* FCE):
g = bidirectional LSTM over the support embeddings plus a skip connection; f = an attention LSTM run for
``fce_steps`` steps (default: the number of support images) that reads the query embedding and the
attention readout of g. Both work on (D,) feature vectors, so the evaluator's feature cache applies.
With CNN-4 (D = 1600) the FCE LSTMs hold 71.7 M parameters (CloserLook's implementation is as large).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import nn

from ..core.errors import ConfigError
from .base import FewShotMethod, MethodOptions
from .protonet import at_least_fp32
from .registry import register_method


class SupportEmbedding(nn.Module):
    """g: (S, D) support features -> (S, D), a bidirectional LSTM over the support set plus the input."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(dim, dim, batch_first=True, bidirectional=True)

    def forward(self, support: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(support[None])
        forward, backward = out[0].chunk(2, dim=1)
        return support + forward + backward


class QueryEmbedding(nn.Module):
    """f: (Q, D) query features, (S, D) embedded support -> (Q, D), an attention LSTM of ``steps`` steps."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.cell = nn.LSTMCell(2 * dim, dim)

    def forward(self, query: torch.Tensor, support: torch.Tensor, steps: int) -> torch.Tensor:
        h = query
        c = torch.zeros_like(query)
        for _ in range(steps):
            readout = torch.softmax(h @ support.t(), dim=1) @ support
            h, c = self.cell(torch.cat([query, readout], dim=1), (h, c))
            h = h + query
        return h


@register_method("matchingnet")
class MatchingNet(FewShotMethod):
    """Cosine attention over the support set; optional full context embeddings."""

    @dataclass
    class Options(MethodOptions):
        """fce: use full context embeddings; fce_steps: attention-LSTM steps (None: number of support images);
        scale: multiplies the cosine similarities before the softmax."""

        fce: bool = False
        fce_steps: Optional[int] = None  # noqa: UP045 (the config schema reads typing.Optional)
        scale: float = 1.0

    def _build(self) -> None:
        o = self.options
        if o.fce_steps is not None and o.fce_steps < 1:
            raise ConfigError(f"method.fce_steps must be >= 1 or null, got {o.fce_steps}")
        if o.scale <= 0:
            raise ConfigError(f"method.scale must be > 0, got {o.scale}")
        if o.fce:
            dim = self.backbone.feature_dim(self.image_shape)
            self.support_embedding = SupportEmbedding(dim)
            self.query_embedding = QueryEmbedding(dim)

    def predict_from_features(
        self, support_features: torch.Tensor, support_labels: torch.Tensor, query_features: torch.Tensor, way: int
    ) -> torch.Tensor:
        """(S, D), (S,), (Q, D) -> (Q, way) log-probabilities."""
        support, query = support_features, query_features
        if self.options.fce:
            support = self.support_embedding(support)
            steps = self.options.fce_steps or len(support)
            query = self.query_embedding(query, support, steps)
        # fp32 even under autocast: the softmax over scaled cosines and its log need more than bf16's 8 bits
        with torch.autocast(query.device.type, enabled=False):
            query, support = at_least_fp32(query), at_least_fp32(support)
            cosine = nn.functional.normalize(query, dim=1) @ nn.functional.normalize(support, dim=1).t()
            attention = torch.softmax(self.options.scale * cosine, dim=1)
            onehot = nn.functional.one_hot(support_labels, way).to(attention.dtype)
            return torch.log((attention @ onehot).clamp_min(1e-12))
