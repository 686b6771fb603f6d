"""NSOptions: which convolution every NS-capable layer of a backbone uses, and the rules on those choices.

Each rule is written once, here: the closed sets are ``Literal`` types (checked by :mod:`..core.typed` both when
a config is read and when an ``NSOptions`` is made in Python) and :func:`check_predictor_gamma` is called by
``NSOptions`` and by ``NSConv2d`` alike.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass
from typing import Literal, Optional

from ..core.errors import ConfigError
from ..core.typed import check_fields

NSLVariant = Literal["none", "static-dns", "static-uns", "dynamic-dns", "dynamic-uns"]
Parameterisation = Literal["disjoint", "shared"]
DnsInit = Literal["identity", "released"]
#: the dynamic predictors (``spec`` NSL_SPEC §3.2 rows 1-2, ``half-res`` issue 12, ``fsphere`` §3.2 row 3)
PredictorKind = Literal["spec", "half-res", "fsphere"]
#: how a dynamic layer applies M (NSL_SPEC §3.3); ``auto`` = unfold
Route = Literal["auto", "unfold", "shift"]
#: kernel-shape gate (NSL_SPEC §5): ``ste`` binary D with a straight-through sigmoid, ``soft`` sigmoid D
ShapeMode = Literal["ste", "soft"]

NSL_VARIANTS = typing.get_args(NSLVariant)
PARAMETERISATIONS = typing.get_args(Parameterisation)
DNS_INITS = typing.get_args(DnsInit)
PREDICTOR_KINDS = typing.get_args(PredictorKind)
ROUTE_NAMES = typing.get_args(Route)
SHAPE_MODES = typing.get_args(ShapeMode)


def check_predictor_gamma(gamma: float, dynamic: bool, similarity: str) -> None:
    """The rule on ``predictor_gamma``: a positive number, and other than 1.0 only for a dynamic DNS layer, the
    one kind whose predictor ends in a BN whose scale it sets (NSL_SPEC §3.2)."""
    if not math.isfinite(gamma) or gamma <= 0:
        raise ConfigError(f"predictor_gamma must be a positive number, got {gamma!r}")
    if gamma == 1.0:
        return
    if not dynamic:
        raise ConfigError(f"predictor_gamma={gamma} scales the output BN of a dynamic DNS predictor and needs a "
                          "dynamic layer (static M has no predictor); use nsl=dynamic-dns or predictor_gamma=1.0")
    if similarity != "dns":
        raise ConfigError(f"predictor_gamma={gamma} scales the output BN of a dynamic DNS predictor; a UNS "
                          "predictor has no output BN to scale (use nsl=dynamic-dns or predictor_gamma=1.0)")


def check_predictor_kind(kind: str, dynamic: bool, similarity: str) -> None:
    """The rule on ``predictor``: ``fsphere`` is a DNS predictor (the released code has no UNS one, §3.2).
    Layers without a predictor (static, plain) ignore the predictor settings, as they ignore ``route``."""
    if dynamic and kind == "fsphere" and similarity == "uns":
        raise ConfigError("predictor=fsphere is the released code's dynamic DNS predictor (NSL_SPEC §3.2); "
                          "it has no UNS form: use nsl=dynamic-dns or predictor=spec")


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
        predictor: which dynamic predictor: ``spec`` (NSL_SPEC §3.2), ``half-res`` (M from the 2x2-pooled input,
            issue 12) or ``fsphere`` (the released code's full-SphereNet DNS predictor, §3.2 third row).
        predictor_hidden: width of each predictor's first conv (of the shared trunk with ``param=shared``);
            None = the released code's 64 for DNS, 128 for UNS.
        route: how a dynamic layer applies M: ``unfold``, ``shift`` or ``auto`` (= unfold; NSL_SPEC §3.3).
        shape_mode: kernel-shape gate with ``learn_shape``: ``ste`` (binary D) or ``soft`` (ablation; §5).
        shape_l1: L1 weight of the kernel-shape gate's sparsity penalty (1e-4, NSL_SPEC §5).
        m_l2: L2 weight on a static UNS M, m_l2 ||M||^2 / 2 toward 0 (5e-3 as in the released code, §2.1;
            0 turns it off).
    """

    nsl: NSLVariant = "none"
    param: Parameterisation = "disjoint"
    learn_shape: bool = False
    plain_first_layer: bool = False
    dns_init: DnsInit = "identity"
    predictor_gamma: float = 1.0
    predictor: PredictorKind = "spec"
    predictor_hidden: Optional[int] = None
    route: Route = "auto"
    shape_mode: ShapeMode = "ste"
    shape_l1: float = 1e-4
    m_l2: float = 5e-3

    def __post_init__(self) -> None:
        check_fields(self)
        kind, _, similarity = self.nsl.partition("-")
        check_predictor_gamma(self.predictor_gamma, kind == "dynamic", similarity)
        check_predictor_kind(self.predictor, kind == "dynamic", similarity)
        if self.learn_shape and self.nsl == "none":
            raise ConfigError("learn_shape needs an NS variant (nsl static-* or dynamic-*), got nsl='none'")
        if self.predictor_hidden is not None and self.predictor_hidden < 1:
            raise ConfigError(f"predictor_hidden must be a positive width or null, got {self.predictor_hidden}")
        for name in ("shape_l1", "m_l2"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ConfigError(f"{name} must be a number >= 0, got {value!r}")

    @property
    def is_ns(self) -> bool:
        return self.nsl != "none"

    @property
    def ns(self) -> NSOptions:
        """These options as a plain :class:`NSOptions` (a subclass, e.g. the run config's model section, adds
        fields of its own)."""
        return NSOptions(**{f.name: getattr(self, f.name) for f in dataclasses.fields(NSOptions)})
