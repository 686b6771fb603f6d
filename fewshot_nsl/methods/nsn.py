"""Static and dynamic NSN with the ProtoNet head, trained episodically (NSL_SPEC §8.2).

The head is exactly :class:`ProtoNet`'s, so "NSN vs ProtoNet" compares backbones alone. The backbone's NS
variant comes from the config (``model.nsl``; the presets set ``static-uns`` and ``dynamic-dns``); these
classes only check that it is of the right family.
"""

from __future__ import annotations

from typing import ClassVar

from ..core.errors import ConfigError
from .protonet import ProtoNet
from .registry import register_method


class _NSProtoNet(ProtoNet):
    """ProtoNet on a backbone whose ``ns_options.nsl`` starts with :attr:`family`."""

    family: ClassVar[str] = ""
    choices: ClassVar[str] = ""

    def _build(self) -> None:
        nsl = getattr(getattr(self.backbone, "ns_options", None), "nsl", "none")
        if not str(nsl).startswith(self.family):
            raise ConfigError(f"method {self.family} needs a {self.family} NS backbone (model.nsl {self.choices}), "
                              f"got model.nsl={nsl!r} on {type(self.backbone).__name__}")
        super()._build()


@register_method("static")
class StaticNSN(_NSProtoNet):
    """Static NSN (one learned M per NS layer; UNS by default, DNS by option) + ProtoNet head."""

    family = "static"
    choices = "static-uns or static-dns"


@register_method("dynamic")
class DynamicNSN(_NSProtoNet):
    """Dynamic NSN (M predicted per position; DNS disjoint by default, UNS/shared by option) + ProtoNet head."""

    family = "dynamic"
    choices = "dynamic-dns or dynamic-uns"
