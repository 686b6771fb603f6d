"""How a backbone asks for its convolutions: plain, static NS or dynamic NS (DNS/UNS, disjoint/shared).

Imports go one way: this module builds :class:`NSConv2d` layers; :mod:`.nsconv` knows nothing of factories.
"""

from __future__ import annotations

from torch import nn

from .nsconv import NSConv2d
from .options import NSL_VARIANTS, PARAMETERISATIONS, NSOptions
from .predictors import ADAPTER_CHANNELS, HIDDEN, PREDICTORS, PredictorTrunk

__all__ = ["NSL_VARIANTS", "PARAMETERISATIONS", "ConvFactory", "NSOptions", "make_ns_conv"]


class ConvFactory(nn.Module):
    """Builds the 3x3 convolutions of a backbone, in order, and owns what they share.

    A backbone holds one factory as a submodule (so a shared predictor trunk is part of its parameters)
    and calls ``factory.conv(in_channels, out_channels)`` for each NS-capable layer.
    """

    def __init__(self, options: NSOptions) -> None:
        super().__init__()
        self.options = options
        self._count = 0
        self.shared = None  # set by make_ns_conv for param="shared"

    def conv(self, in_channels: int, out_channels: int, kernel_size: int = 3, padding: int = 1) -> nn.Module:
        """The next convolution: stride 1, no bias (a BN follows)."""
        index = self._count
        self._count += 1
        opts = self.options
        if not opts.is_ns or (opts.plain_first_layer and index == 0):
            return nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding, bias=False)
        return make_ns_conv(self, in_channels, out_channels, kernel_size, padding)


def make_ns_conv(factory: ConvFactory, in_channels: int, out_channels: int, kernel_size: int,
                 padding: int) -> nn.Module:
    """The NS conv that ``factory.options`` asks for: every field of :class:`NSOptions` reaches the layer.
    With ``param="shared"`` (dynamic only) the factory owns one :class:`PredictorTrunk` as ``factory.shared``
    (created by the first layer) and every layer adapts to it through its own adapter."""
    opts = factory.options
    kind, similarity = opts.nsl.split("-")
    dynamic = kind == "dynamic"
    predictor = None
    num_taps = kernel_size * kernel_size
    if dynamic and opts.param == "shared":
        predictor_cls = PREDICTORS[opts.predictor]
        if factory.shared is None:
            out = num_taps if similarity == "dns" else num_taps * num_taps
            hidden = opts.predictor_hidden or HIDDEN[similarity]
            factory.shared = PredictorTrunk(ADAPTER_CHANNELS, hidden, out, cosine=predictor_cls.cosine)
        predictor = predictor_cls(in_channels, similarity, num_taps, trunk=factory.shared,
                                  output_gamma=opts.predictor_gamma)
    return NSConv2d(in_channels, out_channels, kernel_size, padding, similarity=similarity, dynamic=dynamic,
                    learn_shape=opts.learn_shape, shape_mode=opts.shape_mode, shape_l1=opts.shape_l1,
                    dns_init=opts.dns_init, route=opts.route, predictor=predictor,
                    hidden=opts.predictor_hidden, predictor_gamma=opts.predictor_gamma,
                    predictor_kind=opts.predictor, m_l2=opts.m_l2)
