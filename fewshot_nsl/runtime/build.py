"""Build a method (backbone included) from a resolved :class:`Config`."""

from __future__ import annotations

from typing import Tuple

from ..backbones import build as build_backbone
from ..methods import FewShotMethod, get_method
from .schema import Config


def build_method(config: Config, image_shape: Tuple[int, int, int], num_base_classes: int) -> FewShotMethod:
    """The method named in ``config`` around the backbone described by ``config.model``.

    Args:
        config: a resolved config.
        image_shape: (C, H, W) of the images the model sees.
        num_base_classes: number of classes of the training split.
    """
    backbone = build_backbone(config.model.backbone, in_channels=image_shape[0], ns=config.model.ns,
                              width=config.model.width)
    cls = get_method(config.method_name)
    return cls(backbone, image_shape, num_base_classes, config.method_options(), train_way=config.task.way)
