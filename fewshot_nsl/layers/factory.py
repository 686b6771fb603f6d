"""How a backbone asks for its convolutions: plain, static NS or dynamic NS (DNS/UNS, disjoint/shared)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from torch import nn

from ..core.errors import ConfigError

NSL_VARIANTS = ("none", "static-dns", "static-uns", "dynamic-dns", "dynamic-uns")
PARAMETERISATIONS = ("disjoint", "shared")


@dataclass(frozen=True)
class NSOptions:
    """Which convolution every NS-capable layer of a backbone uses.

    Attributes:
        nsl: ``none`` (plain conv), ``static-dns``, ``static-uns``, ``dynamic-dns`` or ``dynamic-uns``.
        param: ``disjoint`` (one predictor per layer) or ``shared`` (one trunk + per-layer adapters);
            dynamic only.
        learn_shape: learn a binary diagonal D (kernel shape), M_s = D M~ D (NSL_SPEC §5).
        plain_first_layer: keep the first (RGB) conv plain, like the CIFAR ``root`` of the released code.
        dns_init: ``identity`` (all ones) or ``released`` ([1,0,0,0,1,0,0,0,1], the released code's init).
        predictor_gamma: initial scale (gamma) of every dynamic DNS predictor's output BN; 1.0 is the released
            code's (NSL_SPEC §3.2), a smaller value keeps the predicted diagonal near 1 for longer.
    """

    nsl: str = "none"
    param: str = "disjoint"
    learn_shape: bool = False
    plain_first_layer: bool = False
    dns_init: str = "identity"
    predictor_gamma: float = 1.0

    def __post_init__(self) -> None:
        if self.nsl not in NSL_VARIANTS:
            raise ConfigError(f"nsl must be one of {', '.join(NSL_VARIANTS)}, got {self.nsl!r}")
        if self.param not in PARAMETERISATIONS:
            raise ConfigError(f"param must be one of {', '.join(PARAMETERISATIONS)}, got {self.param!r}")
        if self.dns_init not in ("identity", "released"):
            raise ConfigError(f"dns_init must be 'identity' or 'released', got {self.dns_init!r}")
        if not math.isfinite(self.predictor_gamma) or self.predictor_gamma <= 0:
            raise ConfigError(f"predictor_gamma must be a positive number, got {self.predictor_gamma!r}")
        if self.predictor_gamma != 1.0 and self.nsl != "dynamic-dns":
            raise ConfigError(f"predictor_gamma={self.predictor_gamma} scales the output BN of a dynamic DNS "
                              f"predictor; nsl={self.nsl!r} has none (use nsl=dynamic-dns or predictor_gamma=1.0)")
        if self.learn_shape and self.nsl == "none":
            raise ConfigError("learn_shape needs an NS variant (nsl static-* or dynamic-*), got nsl='none'")

    @property
    def is_ns(self) -> bool:
        return self.nsl != "none"


class ConvFactory(nn.Module):
    """Builds the 3x3 convolutions of a backbone, in order, and owns what they share.

    A backbone holds one factory as a submodule (so a shared predictor trunk is part of its parameters)
    and calls ``factory.conv(in_channels, out_channels)`` for each NS-capable layer.
    """

    def __init__(self, options: NSOptions) -> None:
        super().__init__()
        self.options = options
        self._count = 0
        self.shared = None  # set by the NS implementation for param="shared"

    def conv(self, in_channels: int, out_channels: int, kernel_size: int = 3, padding: int = 1) -> nn.Module:
        """The next convolution: stride 1, no bias (a BN follows)."""
        index = self._count
        self._count += 1
        opts = self.options
        if not opts.is_ns or (opts.plain_first_layer and index == 0):
            return nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding, bias=False)
        from .nsconv import make_ns_conv

        return make_ns_conv(self, in_channels, out_channels, kernel_size, padding)
