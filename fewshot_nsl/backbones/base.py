"""What every backbone offers: a feature map, a feature vector, and its sizes for a given input."""

from __future__ import annotations

from typing import Tuple

import torch
from torch import nn


class Backbone(nn.Module):
    """Base class of the built-in backbones.

    Subclasses implement :meth:`forward_map`; :meth:`forward` pools or flattens it to a vector.
    A user's own ``nn.Module`` need not subclass this: :func:`fewshot_nsl.backbones.build` wraps it.
    """

    #: "flatten" (CNN-4: 64x5x5 -> 1600) or "avg" (global average pool, CNN-9: 256)
    pooling: str = "flatten"

    def forward_map(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) images -> (B, C', h, w) feature map."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) images -> (B, D) features."""
        fmap = self.forward_map(x)
        if self.pooling == "avg":
            return fmap.mean(dim=(2, 3))
        return fmap.flatten(1)

    @torch.no_grad()
    def map_shape(self, image_shape: Tuple[int, int, int]) -> Tuple[int, int, int]:
        """(C', h, w) of the feature map for one (C, H, W) input, found by a dry run."""
        was_training = self.training
        self.eval()
        try:
            param = next(self.parameters(), None)
            device = param.device if param is not None else torch.device("cpu")
            out = self.forward_map(torch.zeros(1, *image_shape, device=device))
        finally:
            self.train(was_training)
        return tuple(out.shape[1:])  # type: ignore[return-value]

    def feature_dim(self, image_shape: Tuple[int, int, int]) -> int:
        """D, the length of the feature vector for one (C, H, W) input."""
        c, h, w = self.map_shape(image_shape)
        return c if self.pooling == "avg" else c * h * w


class WrappedBackbone(Backbone):
    """Adapts a user's ``nn.Module`` (images -> features of any shape) to the :class:`Backbone` interface.

    A 4-D output is treated as a feature map (flattened for vectors); a 2-D output is a vector and its map is
    (B, D, 1, 1).
    """

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward_map(self, x: torch.Tensor) -> torch.Tensor:
        out = self.module(x)
        if out.dim() == 2:
            return out[:, :, None, None]
        if out.dim() != 4:
            raise ValueError(f"backbone {type(self.module).__name__} returned shape {tuple(out.shape)}; "
                             "expected (B, D) or (B, C, h, w)")
        return out
