"""CNN-4 (Conv-4): 4 x [conv3x3 -> 64, BN, ReLU, maxpool 2]; 84x84 -> 64x5x5 -> 1600 features."""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from ..layers.factory import ConvFactory, NSOptions
from .registry import register_backbone
from .base import Backbone


def conv_block(factory: ConvFactory, in_channels: int, out_channels: int, pool: bool = True) -> nn.Sequential:
    """[conv3x3 (plain or NS), BN, ReLU, (maxpool 2)], computed as [conv, BN, (maxpool 2), ReLU].

    Why pool first: ReLU is monotone, so relu(maxpool(x)) == maxpool(relu(x)) element for element, and the
    gradients are the same too (the pool routes to the same argmax; where a window's max is <= 0 both give 0);
    the ReLU and its backward then touch a quarter of the map (tests/backbones/test_pool_before_relu.py checks
    outputs and gradients bit for bit against the textbook order)."""
    layers: list[nn.Module] = [factory.conv(in_channels, out_channels), nn.BatchNorm2d(out_channels)]
    if pool:
        layers.append(nn.MaxPool2d(2))
    layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


@register_backbone("cnn4")
class CNN4(Backbone):
    """The classic Conv-4 of few-shot learning; every conv can be an NS conv (NSL_SPEC §8.1).

    Args:
        in_channels: 3 for RGB, 1 for Omniglot.
        ns: which convolutions to use (:class:`NSOptions`).
        width: channels of every block (``model.width``: 64 as in the paper; Finn et al.'s MAML used 32).
        depth: number of blocks (4).
        pooled_blocks: how many of the first blocks end with a maxpool (all by default).
    """

    accepts_ns_options = True
    pooling = "flatten"

    def __init__(self, in_channels: int = 3, ns: NSOptions = NSOptions(), width: int = 64, depth: int = 4,
                 pooled_blocks: Optional[int] = None) -> None:
        super().__init__()
        self.ns_options = ns
        self.convs = ConvFactory(ns)
        channels = [in_channels] + [width] * depth
        pooled = depth if pooled_blocks is None else pooled_blocks
        self.blocks = nn.Sequential(
            *[conv_block(self.convs, channels[i], channels[i + 1], pool=i < pooled) for i in range(depth)]
        )

    def forward_map(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, width, H / 2^pooled_blocks, W / 2^pooled_blocks)."""
        return self.blocks(x)


@register_backbone("cnn4-np")
class CNN4NoPool(CNN4):
    """Conv-4 whose last two blocks do not pool (84x84 -> 64x21x21): the encoder of Sung et al.'s
    RelationNet and CloserLook's ``Conv4NP``, so the relation module compares spatial maps."""

    def __init__(self, in_channels: int = 3, ns: NSOptions = NSOptions(), width: int = 64, depth: int = 4) -> None:
        super().__init__(in_channels, ns, width, depth, pooled_blocks=depth - 2)
