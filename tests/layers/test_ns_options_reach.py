"""Every NS option of the spec is an NSOptions field (so a ``model.*`` key), and ConvFactory passes it to every
NS layer: none exists only as a Python argument of NSConv2d."""

import dataclasses
import inspect

import pytest
import torch

from fewshot_nsl import backbones
from fewshot_nsl.core.errors import ConfigError
from fewshot_nsl.layers import NSConv2d, NSOptions, regularization
from fewshot_nsl.layers.options import PREDICTOR_KINDS, ROUTE_NAMES, SHAPE_MODES
from fewshot_nsl.layers.nsconv import ROUTES
from fewshot_nsl.layers.predictors import PREDICTORS, HalfResolutionPredictor
from fewshot_nsl.layers.shape_gate import GATE_MODES

#: NSConv2d keyword -> the NSOptions field that sets it (``nsl`` sets similarity and dynamic)
KEYWORD_FIELD = {"similarity": "nsl", "dynamic": "nsl", "learn_shape": "learn_shape", "shape_mode": "shape_mode",
                 "dns_init": "dns_init", "route": "route", "hidden": "predictor_hidden",
                 "predictor_gamma": "predictor_gamma", "m_l2": "m_l2", "shape_l1": "shape_l1",
                 "predictor_kind": "predictor"}
#: NSConv2d arguments that are the backbone's structure, not an option
STRUCTURE = {"self", "in_channels", "out_channels", "kernel_size", "padding", "stride", "bias", "predictor"}


def test_every_nsconv_keyword_is_an_ns_option():
    keywords = set(inspect.signature(NSConv2d.__init__).parameters) - STRUCTURE
    assert keywords == set(KEYWORD_FIELD)
    fields = {f.name for f in dataclasses.fields(NSOptions)}
    assert set(KEYWORD_FIELD.values()) <= fields
    # the closed sets agree with what the layers accept
    assert set(PREDICTOR_KINDS) == set(PREDICTORS)
    assert set(ROUTE_NAMES) == {*ROUTES, "auto"}
    assert set(SHAPE_MODES) == set(GATE_MODES)


def ns_layers(net):
    return [m for m in net.modules() if isinstance(m, NSConv2d)]


@pytest.mark.parametrize("name", ["cnn4", "cnn4-np", "cnn9"])
@pytest.mark.parametrize("param", ["disjoint", "shared"])
def test_dynamic_options_reach_every_layer(name, param):
    net = backbones.build(name, nsl="dynamic-uns", param=param, predictor="half-res", predictor_hidden=12,
                          route="shift", learn_shape=True, shape_mode="soft", shape_l1=3e-3)
    layers = ns_layers(net)
    assert len(layers) == (9 if name == "cnn9" else 4)
    for layer in layers:
        assert layer.route == "shift"
        assert type(layer.predictor) is HalfResolutionPredictor
        assert layer.predictor.trunk_module.conv1.weight.shape[0] == 12
        assert (layer.gate.mode, layer.gate.l1) == ("soft", 3e-3)
    net(torch.randn(2, 3, 16, 16)).sum().backward()


def test_static_options_reach_every_layer_and_the_regulariser():
    net = backbones.build("cnn4", nsl="static-uns", m_l2=0.02, learn_shape=True, shape_l1=0.5)
    layers = ns_layers(net)
    assert [layer.m_l2 for layer in layers] == [0.02] * 4
    expected = sum(0.5 * 0.02 * (la.M ** 2).sum() + 0.5 * torch.sigmoid(la.gate.logits).sum() for la in layers)
    torch.testing.assert_close(regularization(net), expected)


def test_defaults_are_the_released_values():
    """The defaults leave every layer as it was before these options were keys."""
    default = ns_layers(backbones.build("cnn4", nsl="dynamic-dns", learn_shape=True))[0]
    assert (default.route, default.gate.mode, default.gate.l1, default.m_l2) == ("unfold", "ste", 1e-4, 5e-3)
    assert default.predictor.trunk.conv1.weight.shape[0] == 64
    uns = ns_layers(backbones.build("cnn4", nsl="dynamic-uns"))[0]
    assert uns.predictor.trunk.conv1.weight.shape[0] == 128


@pytest.mark.parametrize("kwargs,culprit", [({"predictor_hidden": 0}, "predictor_hidden"),
                                            ({"shape_l1": -1.0}, "shape_l1"), ({"m_l2": float("nan")}, "m_l2"),
                                            ({"route": "fold"}, "route"), ({"shape_mode": "hard"}, "shape_mode")])
def test_bad_values_are_refused_naming_the_setting(kwargs, culprit):
    with pytest.raises(ConfigError, match=culprit):
        NSOptions(nsl="dynamic-dns", **kwargs)
