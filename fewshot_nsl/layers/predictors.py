"""Similarity predictors of the dynamic NS layers (NSL_SPEC §3.2, §3.4).

A predictor maps the layer's input (B, C, H, W) to one similarity per sample and position:

- DNS: nconv3x3(C -> 64), BN, ReLU, conv3x3(64 -> K), BN, then +1 -> m (B, K, H, W);
- UNS: nconv3x3(C -> 128), ReLU, conv3x3(128 -> K*K), reshape (channel k*K + q -> M[k, q]), then +I
  -> M (B, K, K, H, W).

``nconv`` divides the conv output at p by the norm of the zero-padded input patch, sqrt(sum x^2 + 1e-4).
Init (released code): He-normal (fan-in) x 0.1 for the first conv and x 0.001 for the second; BN eps 1e-3.

Other predictors (option ``model.predictor``): ``half-res`` (issue 12) and ``fsphere``, the released code's
"best-performing" full-SphereNet DNS predictor (NSL_SPEC §3.2, third row): both convs are full cosines.

Shared parameterisation (§3.4, our choice): one :class:`PredictorTrunk` (the two convs) serves every layer of
a backbone; each layer owns a 1x1 adapter (C_l -> 64) + BN in front of it, and its own BNs (DNS) so that
running statistics are never mixed across layers.
"""

from __future__ import annotations

import math
from typing import ClassVar, Optional

import torch
import torch.nn.functional as F
from torch import nn

from ..core.errors import ConfigError
from .options import check_predictor_gamma

#: hidden width of the predictor's first conv (released code)
HIDDEN = {"dns": 64, "uns": 128}
#: channels the per-layer adapters map to in the shared parameterisation
ADAPTER_CHANNELS = 64
BN_EPS = 1e-3


def he_normal_(weight: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """In place: N(0, (scale * sqrt(2 / fan_in))^2), fan_in = in_channels * kh * kw."""
    fan_in = weight.shape[1] * weight[0, 0].numel()
    with torch.no_grad():
        return weight.normal_(0.0, scale * math.sqrt(2.0 / fan_in))


class NormalizedConv2d(nn.Module):
    """kxk conv (stride 1, 'same', no bias) divided by the input patch norm: (B, C, H, W) -> (B, D, H, W)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, init_scale: float = 1.0,
                 eps: float = 1e-4) -> None:
        super().__init__()
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        self.weight = nn.Parameter(he_normal_(torch.empty(shape), init_scale))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = self.weight.shape[-1]
        y = F.conv2d(x, self.weight, padding=k // 2)  # under autocast: bf16/fp16, the costly part
        # The patch norm stays fp32 even under autocast: it sums C*k*k squares (bf16 would round each to 8 bits and
        # the sum again) and eps = 1e-4 is below bf16's resolution at 1; it is one channel, so fp32 is cheap.
        # Only the finished 1-channel scale is rounded to y's dtype: multiplying the hidden-width y by an fp32
        # scale would make (and back-propagate through) fp32 copies of it: 4 % of a bf16 dynamic DNS step at
        # 42 px, 16 % at 84 px (RESULTS.md, issue 12); the product is rounded to bf16 either way. fp32/float64:
        # the same operations as before, bit for bit.
        with torch.autocast(x.device.type, enabled=False):
            xf = x.to(torch.promote_types(x.dtype, torch.float32))  # float64 stays float64
            box = torch.ones(1, 1, k, k, dtype=xf.dtype, device=x.device)
            patch_sq = F.conv2d((xf * xf).sum(1, keepdim=True), box, padding=k // 2)
            return y * torch.rsqrt(patch_sq + self.eps).to(y.dtype)


class CosineConv2d(NormalizedConv2d):
    """The full cosine of SphereNet (the released fSphereNet code's ``_conv_layer(norm=True)``): the nconv output
    also divided by each filter's norm sqrt(sum_{c, i, j} w[d, c, i, j]^2 + 1e-4); (B, C, H, W) -> (B, D, H, W)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        filter_norm = torch.rsqrt(self.weight.square().sum((1, 2, 3)) + self.eps)
        return super().forward(x) * filter_norm.view(1, -1, 1, 1)


class PredictorTrunk(nn.Module):
    """The two convolutions of a predictor, no bias: nconv3x3(C -> hidden) and conv3x3(hidden -> out) or, with
    ``cosine`` (fSphereNet), both full cosine convs (same init scales, 0.1 and 0.001)."""

    def __init__(self, in_channels: int, hidden: int, out_channels: int, cosine: bool = False) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.cosine = in_channels, out_channels, cosine
        if cosine:
            self.conv1: nn.Module = CosineConv2d(in_channels, hidden, 3, init_scale=0.1)
            self.conv2: nn.Module = CosineConv2d(hidden, out_channels, 3, init_scale=1e-3)
            return
        self.conv1 = NormalizedConv2d(in_channels, hidden, 3, init_scale=0.1)
        self.conv2 = nn.Conv2d(hidden, out_channels, 3, padding=1, bias=False)
        he_normal_(self.conv2.weight, 1e-3)


class TrunkRef:
    """A plain (non-Module) reference to a shared trunk, so that it is registered once (by its owner) in the
    module tree; ``deepcopy`` of the whole model keeps the sharing (the memo maps it to the copied trunk)."""

    def __init__(self, module: PredictorTrunk) -> None:
        self.module = module


class SimilarityPredictor(nn.Module):
    """Predicts M (with the identity added) from a layer's input.

    Args:
        in_channels: C of the layer's input.
        similarity: ``dns`` or ``uns``.
        num_taps: K of the layer's kernel (9 for 3x3).
        hidden: width of the first conv (default 64 for DNS, 128 for UNS; ignored with ``trunk``).
        trunk: a shared trunk (owned elsewhere) to use through a per-layer 1x1 adapter; None = own trunk.
        output_gamma: initial scale of the output BN (DNS only; the released code's is 1). Once the pre-BN
            variance exceeds the BN's eps, the predicted diagonal is m = 1 + output_gamma * (unit-variance
            signal) + beta, so this sets how far m starts from 1 after the first steps.
    """

    #: whether the trunk's convs are full cosines (:class:`FSpherePredictor`)
    cosine: ClassVar[bool] = False

    def __init__(self, in_channels: int, similarity: str, num_taps: int, hidden: Optional[int] = None,
                 trunk: Optional[PredictorTrunk] = None, output_gamma: float = 1.0) -> None:
        super().__init__()
        if similarity not in HIDDEN:
            raise ConfigError(f"similarity must be 'dns' or 'uns', got {similarity!r}")
        self.similarity, self.num_taps = similarity, num_taps
        diagonal = similarity == "dns"
        out = num_taps if diagonal else num_taps * num_taps
        if trunk is None:
            hidden = hidden or HIDDEN[similarity]
            self.trunk: Optional[PredictorTrunk] = PredictorTrunk(in_channels, hidden, out, cosine=self.cosine)
            self.adapter: Optional[nn.Module] = None
            self._shared: Optional[TrunkRef] = None
        else:
            if trunk.out_channels != out:
                raise ConfigError(f"shared predictor trunk gives {trunk.out_channels} outputs, "
                                  f"layer needs {out}")
            if trunk.cosine != self.cosine:
                raise ConfigError(f"shared predictor trunk has cosine={trunk.cosine}, {type(self).__name__} "
                                  f"needs cosine={self.cosine}")
            hidden = trunk.conv1.weight.shape[0]
            self.trunk = None
            self.adapter = nn.Sequential(nn.Conv2d(in_channels, trunk.in_channels, 1, bias=False),
                                         nn.BatchNorm2d(trunk.in_channels, eps=BN_EPS))
            he_normal_(self.adapter[0].weight)
            self._shared = TrunkRef(trunk)
        self.norm1 = nn.BatchNorm2d(hidden, eps=BN_EPS) if diagonal else nn.Identity()
        self.norm2 = nn.BatchNorm2d(out, eps=BN_EPS) if diagonal else nn.Identity()
        check_predictor_gamma(output_gamma, True, similarity)  # the rule lives in .options
        if output_gamma != 1.0:
            nn.init.constant_(self.norm2.weight, output_gamma)

    @property
    def trunk_module(self) -> PredictorTrunk:
        """The trunk in use (own or shared)."""
        return self.trunk if self.trunk is not None else self._shared.module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> m (B, K, H, W) for DNS, M (B, K, K, H, W) with M[b, k, q] for UNS."""
        trunk = self.trunk_module
        h = self.adapter(x) if self.adapter is not None else x
        h = F.relu(self.norm1(trunk.conv1(h)), inplace=True)
        out = self.norm2(trunk.conv2(h))
        if self.similarity == "dns":
            return out + 1.0
        b, _, height, width = out.shape
        k = self.num_taps
        eye = torch.eye(k, dtype=out.dtype, device=out.device)[:, :, None, None]
        return out.view(b, k, k, height, width) + eye


class HalfResolutionPredictor(SimilarityPredictor):
    """A cheaper dynamic predictor (issue 12, option ``half-res``): the spec predictor applied to the 2x2
    average-pooled input (ceil mode: an odd edge keeps its last row/column), its M repeated over each 2x2 block.

    Same arguments and output as :class:`SimilarityPredictor`; about a quarter of its multiply-adds (the
    predictors are most of a dynamic CNN-4's arithmetic, NSL_SPEC §3.2). M still varies per sample and per
    2x2 block of positions, and starts at the identity like the spec's.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> m (B, K, H, W) for DNS, M (B, K, K, H, W) for UNS, constant on 2x2 blocks."""
        height, width = x.shape[-2:]
        coarse = super().forward(F.avg_pool2d(x, 2, ceil_mode=True))
        return coarse.repeat_interleave(2, -2)[..., :height, :].repeat_interleave(2, -1)[..., :width]


class FSpherePredictor(SimilarityPredictor):
    """The released code's full-SphereNet DNS predictor (``nsl_fspherenet``, NSL_SPEC §3.2 third row), option
    ``fsphere``: cos3x3(C -> hidden), BN, ReLU, cos3x3(hidden -> K), BN, + 1 -> m (B, K, H, W), where cos is a
    :class:`CosineConv2d` (divided by the input patch norm and by the filter norm). DNS only.

    Same arguments as :class:`SimilarityPredictor` (a shared trunk must be a cosine trunk).
    """

    cosine = True

    def __init__(self, in_channels: int, similarity: str, num_taps: int, hidden: Optional[int] = None,
                 trunk: Optional[PredictorTrunk] = None, output_gamma: float = 1.0) -> None:
        if similarity != "dns":
            raise ConfigError(f"the fsphere predictor is a DNS predictor (NSL_SPEC §3.2); got similarity "
                              f"{similarity!r}")
        super().__init__(in_channels, similarity, num_taps, hidden, trunk, output_gamma)


#: the dynamic predictors by option name (``model.predictor``): ``spec`` = NSL_SPEC §3.2, the default
PREDICTORS = {"spec": SimilarityPredictor, "half-res": HalfResolutionPredictor, "fsphere": FSpherePredictor}
