"""``model.width``: every built-in backbone scales its channels with it; 64 (the default) changes nothing.
And every NS option is a ``model.*`` key of the run config."""

import dataclasses
import sys
import types

import pytest
import torch
from torch import nn

from fewshot_nsl import backbones
from fewshot_nsl.core.errors import ConfigError
from fewshot_nsl.layers import NSConv2d, NSOptions
from fewshot_nsl.runtime.build import build_method
from fewshot_nsl.runtime.config import ModelConfig, resolve_config


def count(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("name", ["cnn4", "cnn4-np", "cnn9"])
def test_default_width_is_the_unchanged_network(name):
    torch.manual_seed(0)
    a = backbones.build(name, nsl="static-uns")
    torch.manual_seed(0)
    b = backbones.build(name, nsl="static-uns", width=64)
    assert count(a) == count(b)
    for (na, pa), (nb, pb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert na == nb and torch.equal(pa, pb)


def test_width_scales_every_block_of_cnn4_and_the_stages_of_cnn9():
    cnn4 = backbones.build("cnn4", width=32)
    assert count(cnn4) == 3 * 32 * 9 + 3 * 32 * 32 * 9 + 4 * 2 * 32  # Finn et al.'s MAML Conv-4
    assert cnn4.feature_dim((3, 84, 84)) == 32 * 5 * 5
    assert backbones.build("cnn4-np", width=32).map_shape((3, 84, 84)) == (32, 21, 21)
    cnn9 = backbones.build("cnn9", width=32, nsl="dynamic-dns")
    widths = [32, 32, 32, 32, 64, 64, 64, 128, 128, 128]  # stem, then stages 32 x (1, 2, 4)
    convs = [m.out_channels for m in (*cnn9.stem, *cnn9.stages) if isinstance(m, (nn.Conv2d, NSConv2d))]
    assert convs == widths
    assert all(m.predictor.trunk.conv1.weight.shape[0] == 64 for m in cnn9.stages if isinstance(m, NSConv2d))
    assert cnn9.feature_dim((3, 84, 84)) == 128


def test_model_width_reaches_the_backbone_from_the_config_and_is_checked():
    config = resolve_config("maml", overrides=["model.width=32"])
    method = build_method(config, (3, 28, 28), 64)
    assert method.backbone.blocks[0][0].out_channels == 32
    assert method.head.in_features == 32
    with pytest.raises(ConfigError, match="model.width"):
        resolve_config("protonet", overrides=["model.width=0"])


def test_a_user_backbone_gets_width_only_when_it_is_not_the_default(monkeypatch):
    """At width 64 a user's factory keeps its own default; another width must be accepted, else refused."""
    module = types.ModuleType("width_user_nets")
    module.plain = lambda in_channels: nn.Sequential(nn.Conv2d(in_channels, 4, 3), nn.Flatten())
    module.wide = lambda in_channels, width=8: nn.Sequential(nn.Conv2d(in_channels, width, 3), nn.Flatten())
    monkeypatch.setitem(sys.modules, "width_user_nets", module)
    assert backbones.build("width_user_nets:plain", width=64).feature_dim((3, 5, 5)) == 4 * 3 * 3
    assert backbones.build("width_user_nets:wide", width=64).feature_dim((3, 5, 5)) == 8 * 3 * 3
    assert backbones.build("width_user_nets:wide", width=32).feature_dim((3, 5, 5)) == 32 * 3 * 3
    with pytest.raises(ConfigError, match="width"):
        backbones.build("width_user_nets:plain", width=32)


def test_every_ns_option_is_a_model_key():
    values = {"predictor": "fsphere", "predictor_hidden": 16, "route": "shift", "shape_mode": "soft",
              "shape_l1": 0.001, "m_l2": 0.0, "predictor_gamma": 0.5, "learn_shape": True, "dns_init": "released",
              "param": "shared", "plain_first_layer": True, "nsl": "dynamic-dns"}
    assert set(values) == {f.name for f in dataclasses.fields(NSOptions)}
    config = resolve_config("dynamic", overrides=[f"model.{k}={str(v).lower() if isinstance(v, bool) else v}"
                                                  for k, v in values.items()])
    assert {k: getattr(config.model, k) for k in values} == values
    assert isinstance(config.model, ModelConfig) and config.model.ns == NSOptions(**values)
