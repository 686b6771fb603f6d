"""Meta-learned static NSN (NSL_SPEC §8.3, our choice): MAML whose inner loop adapts only the similarity
matrices M of the static NS layers and the linear head.

The outer loop (the trainer's optimiser) meta-learns everything: the kernels W, BN, the initial M (init I)
and the head's initialisation. Batch norm, the head and the inner loop are as in :class:`MAML`.
"""

from __future__ import annotations

from ..core.errors import ConfigError
from ..layers.introspect import similarity_parameter_names
from .maml import MAML
from .registry import register_method


@register_method("metastatic")
class MetaStaticNSN(MAML):
    """MAML on a static NSN whose fast weights are the per-layer M (static DNS: m) and the head."""

    def _build(self) -> None:
        nsl = getattr(getattr(self.backbone, "ns_options", None), "nsl", "none")
        if not str(nsl).startswith("static"):
            raise ConfigError(f"method metastatic needs a static NS backbone (model.nsl static-uns or static-dns), "
                              f"got model.nsl={nsl!r} on {type(self.backbone).__name__}")
        super()._build()
        names = similarity_parameter_names(self.backbone)
        if not names:
            raise ConfigError(f"method metastatic: backbone {type(self.backbone).__name__} has no similarity "
                              "matrices M")
        self._similarity_names = [f"backbone.{n}" for n in names]

    def adapted_parameter_names(self) -> list[str]:
        """The similarity parameters of every NS layer and the head's weight and bias."""
        return self._similarity_names + [f"head.{n}" for n, _ in self.head.named_parameters()]
