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
from typing import Literal

from ..core.errors import ConfigError
from ..core.typed import check_fields

NSLVariant = Literal["none", "static-dns", "static-uns", "dynamic-dns", "dynamic-uns"]
Parameterisation = Literal["disjoint", "shared"]
DnsInit = Literal["identity", "released"]

NSL_VARIANTS = typing.get_args(NSLVariant)
PARAMETERISATIONS = typing.get_args(Parameterisation)
DNS_INITS = typing.get_args(DnsInit)


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

    nsl: NSLVariant = "none"
    param: Parameterisation = "disjoint"
    learn_shape: bool = False
    plain_first_layer: bool = False
    dns_init: DnsInit = "identity"
    predictor_gamma: float = 1.0

    def __post_init__(self) -> None:
        check_fields(self)
        kind, _, similarity = self.nsl.partition("-")
        check_predictor_gamma(self.predictor_gamma, kind == "dynamic", similarity)
        if self.learn_shape and self.nsl == "none":
            raise ConfigError("learn_shape needs an NS variant (nsl static-* or dynamic-*), got nsl='none'")

    @property
    def is_ns(self) -> bool:
        return self.nsl != "none"

    @property
    def ns(self) -> NSOptions:
        """These options as a plain :class:`NSOptions` (a subclass, e.g. the run config's model section, adds
        fields of its own)."""
        return NSOptions(**{f.name: getattr(self, f.name) for f in dataclasses.fields(NSOptions)})
