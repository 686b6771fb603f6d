"""CNN-9 (NSL_SPEC §8.1, our choice): plain stem + 3 stages x 3 NS convs (64/128/256), global average pool.

``width`` (``model.width``, default 64) is the stem's and first stage's width; the stages are width x (1, 2, 4).
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import torch
from torch import nn

from ..layers.factory import ConvFactory, NSOptions
from .registry import register_backbone
from .base import Backbone


@register_backbone("cnn9")
class CNN9(Backbone):
    """The CIFAR network of the released NSL code adapted to 84x84 and doubled in width.

    stem conv3x3(C -> 64), BN, ReLU, maxpool (84 -> 42); stages of 3 x [conv3x3, BN, ReLU] with widths
    64 / 128 / 256, each followed by maxpool (42 -> 21 -> 10 -> 5); global average pool -> 256 features.
    The stem stays plain (like the released code's ``root``); the 9 stage convs are NS convs when asked.

    Args:
        in_channels: 3 for RGB, 1 for Omniglot.
        ns: which convolutions to use (:class:`NSOptions`).
        width: the stem's width; the stages have width x ``STAGE_MULTIPLIERS`` = (1, 2, 4) channels, so
            64 gives the 64 / 128 / 256 of NSL_SPEC §8.1 and 32 halves every layer.
        widths: the stage widths themselves (overrides ``width``; the stem takes the first).
        per_stage: NS convs per stage (3).
    """

    STAGE_MULTIPLIERS = (1, 2, 4)

    accepts_ns_options = True
    pooling = "avg"

    def __init__(
        self, in_channels: int = 3, ns: NSOptions = NSOptions(), width: int = 64, widths: Optional[tuple] = None,
        per_stage: int = 3,
    ) -> None:
        super().__init__()
        self.ns_options = ns
        if widths is None:
            widths = tuple(width * m for m in self.STAGE_MULTIPLIERS)
        stem_width = widths[0]
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, stem_width, 3, padding=1, bias=False),
            nn.BatchNorm2d(stem_width),
            nn.MaxPool2d(2),  # before the ReLU: the same numbers, a quarter of the ReLU work (cnn4.conv_block)
            nn.ReLU(inplace=True),
        )
        # the RGB conv (the stem) is always plain here, so ``plain_first_layer`` changes nothing in the stages
        self.convs = ConvFactory(dataclasses.replace(ns, plain_first_layer=False))
        stages: list[nn.Module] = []
        c_in = stem_width
        for width in widths:
            for _ in range(per_stage):
                stages += [self.convs.conv(c_in, width), nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
                c_in = width
            # the stage's last ReLU after its pool: the same numbers, a quarter of the work (cnn4.conv_block)
            stages.insert(len(stages) - 1, nn.MaxPool2d(2))
        self.stages = nn.Sequential(*stages)

    def forward_map(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, 84, 84) -> (B, widths[-1], 5, 5): (B, 256, 5, 5) at the default width."""
        return self.stages(self.stem(x))
