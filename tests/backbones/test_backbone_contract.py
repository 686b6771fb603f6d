"""Every registered built-in backbone (derived from the registry: a new one is covered without editing this file)
honours the contract the methods rely on: forward_map gives map_shape, forward gives feature_dim, the NS options
it accepts are applied, and gradients reach every parameter."""

import pytest
import torch

from fewshot_nsl import backbones
from fewshot_nsl.layers import NSConv2d

SHAPE = (3, 32, 32)
NS_VARIANTS = ["none", "static-uns", "dynamic-dns"]


def test_the_registry_is_the_list_of_builtins():
    assert backbones.BACKBONES.names() and set(backbones.BACKBONES.names()) <= set(backbones.available())


@pytest.mark.parametrize("name", backbones.BACKBONES.names())
@pytest.mark.parametrize("nsl", NS_VARIANTS)
def test_builtin_backbone_contract(name, nsl):
    if nsl != "none" and not getattr(backbones.BACKBONES.get(name), "accepts_ns_options", False):
        pytest.skip(f"{name} takes no NS options")
    torch.manual_seed(0)
    net = backbones.build(name, nsl=nsl)
    x = torch.randn(2, *SHAPE)
    maps = net.forward_map(x)
    assert tuple(maps.shape[1:]) == tuple(net.map_shape(SHAPE))
    features = net(x)
    assert features.shape == (2, net.feature_dim(SHAPE)) and torch.isfinite(features).all()
    assert any(isinstance(m, NSConv2d) for m in net.modules()) == (nsl != "none")
    features.square().mean().backward()
    assert all(p.grad is not None for p in net.parameters() if p.requires_grad)
