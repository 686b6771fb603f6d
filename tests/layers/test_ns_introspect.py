"""Regularisers, introspection helpers and folding over whole models."""

import torch
from torch import nn

from fewshot_nsl import backbones
from fewshot_nsl.layers import (NSConv2d, fold_static, kernel_shapes, ns_matrices, regularization,
                                similarity_parameter_names)


def test_similarity_parameter_names_are_the_static_ms():
    net = backbones.build("cnn4", nsl="static-uns", learn_shape=True)
    names = similarity_parameter_names(net)
    params = dict(net.named_parameters())
    assert len(names) == 4 and all(n.endswith(".M") and params[n].shape == (9, 9) for n in names)
    assert list(ns_matrices(net)) == names and all(ns_matrices(net)[n] is params[n] for n in names)
    plain_first = backbones.build("cnn4", nsl="static-dns", plain_first_layer=True)
    assert len(similarity_parameter_names(plain_first)) == 3
    assert similarity_parameter_names(backbones.build("cnn4", nsl="dynamic-uns")) == []
    assert similarity_parameter_names(backbones.build("cnn4")) == []
    assert similarity_parameter_names(NSConv2d(2, 2)) == ["M"]


def test_kernel_shapes_per_layer():
    net = backbones.build("cnn9", nsl="dynamic-dns", learn_shape=True)
    shapes = kernel_shapes(net)
    assert len(shapes) == 9 and all(v == [1] * 9 for v in shapes.values())
    layer = net.get_submodule(next(iter(shapes)))
    with torch.no_grad():
        layer.gate.logits[4] = -1.0
    assert kernel_shapes(net)[next(iter(shapes))] == [1, 1, 1, 1, 0, 1, 1, 1, 1]
    assert kernel_shapes(backbones.build("cnn4", nsl="static-uns")) == {}


def test_regularization_sums_every_layer():
    net = backbones.build("cnn4", nsl="static-uns", learn_shape=True)
    with torch.no_grad():
        for m in ns_matrices(net).values():
            m.mul_(2.0)
    expected = 4 * (0.5 * 5e-3 * 4 * 9 + 1e-4 * 9 * torch.sigmoid(torch.tensor(3.0)))
    reg = regularization(net)
    assert reg.dim() == 0 and torch.allclose(reg, expected)
    zero = regularization(backbones.build("cnn4"))
    assert zero.dim() == 0 and float(zero) == 0.0
    assert float(regularization(nn.ReLU())) == 0.0
    assert float(regularization(backbones.build("cnn4", nsl="static-dns"))) == 0.0


def test_fold_a_single_layer_and_dtype_device():
    layer = NSConv2d(3, 4, similarity="uns", bias=True).double()
    with torch.no_grad():
        layer.M.add_(torch.randn(9, 9, dtype=torch.float64))
        layer.bias.normal_()
    folded = fold_static(layer)
    assert type(folded) is nn.Conv2d and folded.weight.dtype == torch.float64
    x = torch.randn(2, 3, 5, 5, dtype=torch.float64)
    assert torch.allclose(folded(x), layer(x), atol=1e-12)
