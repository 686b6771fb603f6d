"""The released code's CIFAR network (NSL_SPEC §6): plain root + 3 stages x 3 NS convs (32/64/128), 4x4 score.

root conv3x3(C -> 32), BN, ReLU (never NS); stages of 3 x [conv3x3, BN, ReLU] with widths 32 / 64 / 128, each
followed by maxpool 2x2/2 (SAME): 32 -> 16 -> 8 -> 4; then, with ``num_classes``, the ``score`` conv4x4 VALID
(128 -> num_classes). No conv has a bias; every BN has eps 1e-3; the input is raw 0-255 pixels (the CIFAR readers
and the generic stand-in declare mean 0 / std 1, so the transforms pass pixels through unscaled).
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import torch
from torch import nn

from ..layers.factory import ConvFactory, NSOptions
from ..layers.predictors import he_normal_
from .base import Backbone
from .registry import register_backbone

#: BN eps of the released code (TF ``batch_normalization`` with epsilon 1e-3)
BN_EPS = 1e-3
#: PyTorch BN momentum for the released code's test-time EMA of batch statistics (decay 0.999, NSL_SPEC §6)
BN_MOMENTUM = 1e-3
#: side of the score conv: the 4x4 map a 32x32 input leaves after three poolings
SCORE_SIZE = 4


def _bn(channels: int, momentum: float) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=momentum)


def _plain_he(module: nn.Module) -> nn.Module:
    """He-normal (fan-in) init of a plain conv, as the released code initialises every kernel."""
    if type(module) is nn.Conv2d:
        he_normal_(module.weight)
    return module


@register_backbone("cifar9")
class CIFAR9(Backbone):
    """The 9-layer NSN of the CIFAR tables; every stage conv is an NS conv when ``ns`` asks for one.

    Args:
        in_channels: 3 (RGB).
        ns: the NS options, applied to the 9 stage convs through :class:`ConvFactory` like CNN-4/CNN-9 (the root
            stays plain, so ``plain_first_layer`` changes nothing).
        num_classes: add the ``score`` conv4x4 VALID (128 -> num_classes, no bias): ``forward`` then gives
            (B, num_classes) logits for 32x32 inputs. None: a feature extractor, (B, 128, 4, 4) -> 2048 features
            (the ``classifier`` method puts the same score layer on top as a bias-free linear map).
        width: ``model.width`` (default 64, every built-in's base width): the stages are width x (1/2, 1, 2),
            so (32, 64, 128) as released at the default.
        widths, per_stage: the stage widths themselves (overrides ``width``) and convs per stage (3).
        bn_momentum: PyTorch BN momentum (1e-3: the released code's EMA decay 0.999).
    """

    accepts_ns_options = True
    pooling = "flatten"

    def __init__(self, in_channels: int = 3, ns: NSOptions = NSOptions(), num_classes: Optional[int] = None,
                 width: int = 64, widths: Optional[tuple] = None, per_stage: int = 3,
                 bn_momentum: float = BN_MOMENTUM) -> None:
        super().__init__()
        if widths is None:
            widths = (width // 2, width, 2 * width)
        self.ns_options = ns
        self.num_classes = num_classes
        root_width = widths[0]
        self.root = nn.Sequential(
            _plain_he(nn.Conv2d(in_channels, root_width, 3, padding=1, bias=False)),
            _bn(root_width, bn_momentum),
            nn.ReLU(inplace=True),
        )
        self.convs = ConvFactory(dataclasses.replace(ns, plain_first_layer=False))
        stages: list[nn.Module] = []
        c_in = root_width
        for width in widths:
            for _ in range(per_stage):
                stages += [_plain_he(self.convs.conv(c_in, width)), _bn(width, bn_momentum), nn.ReLU(inplace=True)]
                c_in = width
            # ceil: TF's SAME pooling on an odd side; before the stage's last ReLU: the same numbers, a quarter of
            # the ReLU work (cnn4.conv_block)
            stages.insert(len(stages) - 1, nn.MaxPool2d(2, ceil_mode=True))
        self.stages = nn.Sequential(*stages)
        self.score: Optional[nn.Conv2d] = None
        if num_classes is not None:
            self.score = _plain_he(nn.Conv2d(c_in, int(num_classes), SCORE_SIZE, bias=False))

    def forward_map(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, 32, 32) raw pixels -> (B, 128, 4, 4), or (B, num_classes, 1, 1) logits with the score conv."""
        fmap = self.stages(self.root(x))
        return fmap if self.score is None else self.score(fmap)
