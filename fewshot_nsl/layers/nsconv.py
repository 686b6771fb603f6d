"""The neural-similarity convolution NSConv2d (NSL_SPEC §1-§5); backbones build it through :mod:`.factory`.

y[b, o, p] = sum_c sum_{k, q} W[o, c, k] M[k, q] x[b, c, p + delta_q]   (k: kernel tap, q: input tap)

- static: M is a parameter of the layer: (K, K) for UNS (init I, L2 5e-3 * ||M||^2 / 2 toward 0), or its
  diagonal m (K,) for DNS (init ones; ``dns_init="released"`` gives the released code's flattened identity
  kernel [1,0,0,0,1,0,0,0,1], no regulariser). Computed as one conv with the folded kernel W' = M^T W;
  :meth:`fold` returns that plain ``nn.Conv2d``.
- dynamic: M is predicted per sample and output position from the layer's input (:mod:`.predictors`), and
  applied by the unfold or the shift route (:mod:`.functional`).
- ``learn_shape``: M_s = D M D with a learned binary diagonal D (:mod:`.shape_gate`).
"""

from __future__ import annotations

from typing import List, Optional

import torch
import torch.nn.functional as F
from torch import nn

from ..core.errors import ConfigError
from ..core.typed import check_value
from .functional import ns_conv_shift, ns_conv_unfold, transform_kernel
from .options import DnsInit, check_predictor_gamma
from .predictors import PREDICTORS, SimilarityPredictor, he_normal_
from .shape_gate import ShapeGate

#: the two dynamic routes (NSL_SPEC §3.3); "auto" picks per layer (see NSConv2d)
ROUTES = {"unfold": ns_conv_unfold, "shift": ns_conv_shift}
SIMILARITIES = ("dns", "uns")


class NSConv2d(nn.Module):
    """A 2-D NS convolution; (B, C, H, W) -> (B, O, H', W').

    Args:
        in_channels, out_channels, kernel_size, padding, stride: as ``nn.Conv2d`` (dynamic layers need
            stride 1, an odd kernel and 'same' padding).
        similarity: ``dns`` (diagonal M) or ``uns`` (unconstrained M).
        dynamic: predict M from the input instead of learning one M per layer.
        bias: add a learned bias (off by default: a BN follows).
        learn_shape: learn the kernel shape, M_s = D M D.
        shape_mode: ``ste`` (binary D, straight-through) or ``soft`` (sigmoid D, ablation).
        dns_init: ``identity`` (all ones) or ``released`` (flattened identity kernel); static DNS only.
        route: dynamic only; ``unfold``, ``shift`` or ``auto`` (unfold; the faster here, see benchmarks).
        predictor: a prebuilt predictor (e.g. one using a shared trunk); built from ``hidden`` when None.
        hidden: width of the predictor (default 64 for DNS, 128 for UNS).
        predictor_gamma: initial scale of the predictor's output BN when it is built here (dynamic DNS only;
            1.0 = released code).
        predictor_kind: which predictor is built here (``spec`` = NSL_SPEC §3.2, ``half-res`` or ``fsphere``:
            see :data:`.predictors.PREDICTORS`).
        m_l2: L2 coefficient on a static UNS M (5e-3 as in the released code; 0 turns it off).
        shape_l1: L1 coefficient of the kernel-shape gate.

    A backbone gets every one of these from its :class:`.options.NSOptions` (the ``model.*`` keys) through
    :class:`.factory.ConvFactory`.

    Attributes:
        weight: (O, C, kh, kw) kernel W (He-normal, fan-in, as in the released code).
        M: static layers only; (K,) for DNS, (K, K) for UNS.
        predictor: dynamic layers only.
        gate: the :class:`ShapeGate` when ``learn_shape``, else None.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, padding: int = 1,
                 similarity: str = "uns", dynamic: bool = False, *, stride: int = 1, bias: bool = False,
                 learn_shape: bool = False, shape_mode: str = "ste", dns_init: str = "identity",
                 route: str = "auto", predictor: Optional[SimilarityPredictor] = None,
                 hidden: Optional[int] = None, predictor_gamma: float = 1.0, m_l2: float = 5e-3,
                 shape_l1: float = 1e-4, predictor_kind: str = "spec") -> None:
        super().__init__()
        if similarity not in SIMILARITIES:
            raise ConfigError(f"NSConv2d similarity must be 'dns' or 'uns', got {similarity!r}")
        check_value(DnsInit, dns_init, "NSConv2d dns_init")
        check_predictor_gamma(predictor_gamma, dynamic, similarity)
        if predictor_kind not in PREDICTORS:
            raise ConfigError(f"NSConv2d predictor_kind must be one of {', '.join(PREDICTORS)}; got {predictor_kind!r}")
        if route not in (*ROUTES, "auto"):
            raise ConfigError(f"NSConv2d route must be one of unfold, shift, auto; got {route!r}")
        if dynamic and (stride != 1 or kernel_size % 2 == 0 or padding != kernel_size // 2):
            raise ConfigError("dynamic NSConv2d needs stride 1, an odd kernel and 'same' padding "
                              f"(got kernel {kernel_size}, stride {stride}, padding {padding})")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.padding, self.stride = kernel_size, padding, stride
        self.similarity, self.dynamic = similarity, dynamic
        self.num_taps = kernel_size * kernel_size
        self.route = "unfold" if route == "auto" else route
        self.m_l2 = float(m_l2)
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        self.weight = nn.Parameter(he_normal_(torch.empty(shape)))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        if dynamic:
            if predictor is None:
                predictor = PREDICTORS[predictor_kind](in_channels, similarity, self.num_taps, hidden,
                                                       output_gamma=predictor_gamma)
            self.predictor = predictor
        else:
            self.M = nn.Parameter(self._initial_m(dns_init))
        self.gate = ShapeGate(self.num_taps, l1=shape_l1, mode=shape_mode) if learn_shape else None

    def _initial_m(self, dns_init: str) -> torch.Tensor:
        if self.similarity == "uns":
            return torch.eye(self.num_taps)
        if dns_init == "released":
            return torch.eye(self.kernel_size).flatten()
        return torch.ones(self.num_taps)

    @property
    def diagonal(self) -> bool:
        return self.similarity == "dns"

    def _apply_shape(self, m: torch.Tensor) -> torch.Tensor:
        """D M D for any form of M (static or dynamic, diagonal or full)."""
        if self.gate is None:
            return m
        d = self.gate().to(m.dtype)
        tail = (1, 1) if m.dim() in (4, 5) else ()
        if self.diagonal:
            return m * (d * d).view(-1, *tail)
        return m * d.view(-1, 1, *tail) * d.view(1, -1, *tail)

    def similarity_matrix(self, x: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The M in use (shape gate applied): static (K,) / (K, K); dynamic (B, K, H, W) / (B, K, K, H, W) for
        the (B, C, H, W) input ``x``."""
        if self.dynamic:
            if x is None:
                raise ValueError("a dynamic NSConv2d needs the input to predict M")
            return self._apply_shape(self.predictor(x))
        return self._apply_shape(self.M)

    def folded_weight(self) -> torch.Tensor:
        """W' = M^T W (O, C, kh, kw) of a static layer (differentiable)."""
        if self.dynamic:
            raise TypeError("a dynamic NSConv2d has no folded kernel (M depends on the input)")
        return transform_kernel(self.weight, self.similarity_matrix())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.dynamic:
            return F.conv2d(x, self.folded_weight(), self.bias, self.stride, self.padding)
        return ROUTES[self.route](x, self.weight, self.similarity_matrix(x), self.padding, self.bias)

    @torch.no_grad()
    def fold(self) -> nn.Conv2d:
        """A plain ``nn.Conv2d`` (same device/dtype) computing this static layer exactly."""
        conv = nn.Conv2d(self.in_channels, self.out_channels, self.kernel_size, self.stride, self.padding,
                         bias=self.bias is not None, device=self.weight.device, dtype=self.weight.dtype)
        conv.weight.copy_(self.folded_weight())
        if self.bias is not None:
            conv.bias.copy_(self.bias)
        if not self.weight.is_contiguous() and self.weight.is_contiguous(memory_format=torch.channels_last):
            conv.to(memory_format=torch.channels_last)  # keep the layout of a channels-last model
        return conv

    def regularization(self) -> torch.Tensor:
        """Every regulariser this layer adds to the loss (0-d): static UNS m_l2 ||M||^2 / 2, shape-gate L1."""
        total = self.weight.new_zeros(())
        if not self.dynamic and not self.diagonal and self.m_l2:
            total = total + 0.5 * self.m_l2 * (self.M * self.M).sum()
        if self.gate is not None:
            total = total + self.gate.regularization()
        return total

    def kernel_shape(self) -> Optional[List[int]]:
        """The learned binary shape (K,) row-major, or None without ``learn_shape``."""
        return self.gate.shape() if self.gate is not None else None

    def extra_repr(self) -> str:
        kind = "dynamic" if self.dynamic else "static"
        route = f", route={self.route}" if self.dynamic else ""
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"padding={self.padding}, stride={self.stride}, {kind}-{self.similarity}{route}, "
                f"learn_shape={self.gate is not None}, bias={self.bias is not None}")

