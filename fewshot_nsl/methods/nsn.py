"""Static and dynamic NSN with the ProtoNet head, trained episodically (NSL_SPEC §8.2).

The head is exactly :class:`ProtoNet`'s, so "NSN vs ProtoNet" compares backbones alone. The backbone's NS
variant comes from the config (``model.nsl``; the presets set ``static-uns`` and ``dynamic-dns``); these
classes only check that it is of the right family.
"""

from __future__ import annotations

from typing import ClassVar

from ..backbones.base import Backbone
from ..errors import ConfigError
from . import register_method
from .base import MethodOptions
from .protonet import ProtoNet


class _NSProtoNet(ProtoNet):
    """ProtoNet on a backbone whose ``ns_options.nsl`` starts with :attr:`family`."""

    family: ClassVar[str] = ""
    choices: ClassVar[str] = ""

    def __init__(
        self,
        backbone: Backbone,
        image_shape: tuple[int, int, int],
        num_base_classes: int,
        options: MethodOptions | None = None,
        train_way: int = 5,
    ) -> None:
        nsl = getattr(getattr(backbone, "ns_options", None), "nsl", "none")
        if not str(nsl).startswith(self.family):
            raise ConfigError(f"method {self.family} needs a {self.family} NS backbone (model.nsl {self.choices}), "
                              f"got model.nsl={nsl!r} on {type(backbone).__name__}")
        super().__init__(backbone, image_shape, num_base_classes, options, train_way)


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
