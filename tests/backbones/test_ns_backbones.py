"""NS variants of CNN-4 / CNN-9: structure, parameter counts, feature sizes, shared trunk, folding."""

import copy

import pytest
import torch
from torch import nn

from fewshot_nsl import backbones
from fewshot_nsl.core.errors import ConfigError
from fewshot_nsl.layers import NSConv2d, PredictorTrunk, fold_static, regularization

VARIANTS = [("none", "disjoint"), ("static-dns", "disjoint"), ("static-uns", "disjoint"),
            ("dynamic-dns", "disjoint"), ("dynamic-dns", "shared"), ("dynamic-uns", "disjoint"),
            ("dynamic-uns", "shared")]


def count(module):
    return sum(p.numel() for p in module.parameters())


def predictor_params(c, similarity):
    """Disjoint predictor of one layer with input channels c (NSL_SPEC §3.2)."""
    if similarity == "dns":  # nconv c->64, BN(64), conv 64->9, BN(9)
        return c * 9 * 64 + 2 * 64 + 64 * 9 * 9 + 2 * 9
    return c * 9 * 128 + 128 * 9 * 81  # nconv c->128, conv 128->81


def shared_params(c, similarity):
    """Per-layer part of the shared parameterisation: 1x1 adapter c->64 + BN, and (DNS) the own BNs."""
    return c * 64 + 2 * 64 + (2 * 64 + 2 * 9 if similarity == "dns" else 0)


def trunk_params(similarity):
    return 64 * 9 * 64 + 64 * 9 * 9 if similarity == "dns" else 64 * 9 * 128 + 128 * 9 * 81


def expected_count(name, nsl, param):
    ins = [3, 64, 64, 64] if name == "cnn4" else [64, 64, 64, 64, 128, 128, 128, 256, 256]
    plain = 112832 if name == "cnn4" else 1958336
    if nsl == "none":
        return plain
    kind, sim = nsl.split("-")
    if kind == "static":
        return plain + len(ins) * (9 if sim == "dns" else 81)
    if param == "disjoint":
        return plain + sum(predictor_params(c, sim) for c in ins)
    return plain + trunk_params(sim) + sum(shared_params(c, sim) for c in ins)


def test_plain_counts_are_the_textbook_ones():
    # CNN-4: 4 convs (3->64, 3 x 64->64) + 4 BNs
    assert count(backbones.build("cnn4")) == 3 * 64 * 9 + 3 * 64 * 64 * 9 + 4 * 128
    widths = [64, 64, 64, 64, 128, 128, 128, 256, 256, 256]
    convs = 3 * 64 * 9 + sum(a * b * 9 for a, b in zip(widths[:-1], widths[1:]))
    assert count(backbones.build("cnn9")) == convs + 2 * sum(widths)


@pytest.mark.parametrize("name", ["cnn4", "cnn9"])
@pytest.mark.parametrize("nsl,param", VARIANTS)
def test_parameter_counts_and_layer_kinds(name, nsl, param):
    net = backbones.build(name, nsl=nsl, param=param)
    assert count(net) == expected_count(name, nsl, param)
    ns = [m for m in net.modules() if isinstance(m, NSConv2d)]
    assert len(ns) == (0 if nsl == "none" else 4 if name == "cnn4" else 9)
    for layer in ns:
        assert layer.dynamic == nsl.startswith("dynamic") and layer.similarity == nsl[-3:]


@pytest.mark.parametrize("nsl,param", VARIANTS)
def test_feature_sizes_at_84(nsl, param):
    assert backbones.build("cnn4", nsl=nsl, param=param).feature_dim((3, 84, 84)) == 1600
    assert backbones.build("cnn9", nsl=nsl, param=param).feature_dim((3, 84, 84)) == 256


def test_plain_first_layer_and_learn_shape():
    net = backbones.build("cnn4", nsl="static-uns", plain_first_layer=True, learn_shape=True)
    first = net.blocks[0][0]
    assert type(first) is nn.Conv2d
    ns = [m for m in net.modules() if isinstance(m, NSConv2d)]
    assert len(ns) == 3 and all(layer.gate is not None for layer in ns)
    # CNN-9's RGB conv (the stem) is plain anyway: the flag keeps all 9 stage convs NS
    cnn9 = backbones.build("cnn9", nsl="static-dns", plain_first_layer=True)
    assert sum(isinstance(m, NSConv2d) for m in cnn9.modules()) == 9
    with pytest.raises(ConfigError, match="learn_shape"):
        backbones.build("cnn4", nsl="none", learn_shape=True)


def test_static_nsn_at_init_is_the_plain_network():
    torch.manual_seed(0)
    plain, static = backbones.build("cnn4").eval(), backbones.build("cnn4", nsl="static-uns").eval()
    ns = [m for m in static.modules() if isinstance(m, NSConv2d)]
    convs = [m for m in plain.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        for a, b in zip(ns, convs):
            b.weight.copy_(a.weight)
    x = torch.randn(2, 3, 32, 32)
    assert torch.allclose(static(x), plain(x), atol=1e-5)


def test_folded_static_nsn_computes_the_same_without_ns_layers():
    torch.manual_seed(0)
    net = backbones.build("cnn4", nsl="static-uns", learn_shape=True).double()
    with torch.no_grad():
        for layer in net.modules():
            if isinstance(layer, NSConv2d):
                layer.M.add_(0.2 * torch.randn_like(layer.M))
                layer.gate.logits[::4] = -1.0
    net.eval()
    folded = fold_static(net)
    x = torch.randn(3, 3, 32, 32, dtype=torch.float64)
    assert not any(isinstance(m, NSConv2d) for m in folded.modules())
    assert any(isinstance(m, NSConv2d) for m in net.modules())  # the original is untouched
    assert torch.allclose(folded(x), net(x), atol=1e-10)
    assert not folded.training


def test_fold_keeps_dynamic_layers():
    net = backbones.build("cnn4", nsl="dynamic-dns").eval()
    folded = fold_static(net)
    assert sum(isinstance(m, NSConv2d) for m in folded.modules()) == 4
    x = torch.randn(2, 3, 32, 32)
    assert torch.allclose(folded(x), net(x))


@pytest.mark.parametrize("nsl", ["dynamic-dns", "dynamic-uns"])
def test_shared_trunk_is_registered_once_and_used_by_every_layer(nsl):
    net = backbones.build("cnn4", nsl=nsl, param="shared")
    trunk = net.convs.shared
    assert isinstance(trunk, PredictorTrunk)
    names = [n for n, _ in net.named_parameters() if ".conv1.weight" in n and "shared" in n]
    assert names == ["convs.shared.conv1.weight"]
    layers = [m for m in net.modules() if isinstance(m, NSConv2d)]
    assert all(layer.predictor.trunk_module is trunk for layer in layers)
    assert all(layer.predictor.trunk is None for layer in layers)
    # the trunk receives gradient from each layer
    x = torch.randn(2, 3, 32, 32)
    for layer in layers:
        net.zero_grad()
        m = layer.predictor(torch.randn(2, layer.in_channels, 6, 6))
        m.sum().backward()
        assert trunk.conv2.weight.grad.abs().sum() > 0
    # deepcopy keeps the sharing inside the copy; state_dict round-trips
    clone = copy.deepcopy(net)
    clone_layers = [m for m in clone.modules() if isinstance(m, NSConv2d)]
    assert all(layer.predictor.trunk_module is clone.convs.shared for layer in clone_layers)
    assert clone.convs.shared is not trunk
    fresh = backbones.build("cnn4", nsl=nsl, param="shared")
    fresh.load_state_dict(net.state_dict())
    net.eval(), fresh.eval()
    assert torch.allclose(fresh(x), net(x))


@pytest.mark.parametrize("nsl", ["dynamic-dns", "dynamic-uns"])
def test_dynamic_backbone_train_eval_and_batch_of_one(nsl):
    net = backbones.build("cnn4", nsl=nsl)
    x = torch.randn(1, 3, 32, 32)
    out = net.train()(x)
    out.sum().backward()
    assert out.shape == (1, 64 * 2 * 2)
    assert all(p.grad is not None for p in net.parameters())
    assert torch.isfinite(net.eval()(x)).all()
    assert float(regularization(net)) == 0.0


@pytest.mark.parametrize("nsl", ["none", "dynamic-dns"])
def test_cnn4_np_is_cnn4_without_the_last_two_poolings(nsl):
    """Sung et al.'s RelationNet encoder: same convs and parameters as CNN-4, 84 -> 42 -> 21 -> 21 -> 21."""
    pooled, unpooled = backbones.build("cnn4", nsl=nsl), backbones.build("cnn4-np", nsl=nsl)
    assert count(unpooled) == count(pooled)
    assert unpooled.map_shape((3, 84, 84)) == (64, 21, 21)
    assert unpooled.map_shape((3, 42, 42)) == (64, 10, 10)
    assert unpooled.feature_dim((3, 28, 28)) == 64 * 7 * 7
    torch.manual_seed(0)
    x = torch.randn(2, 3, 20, 20)
    unpooled.load_state_dict(pooled.state_dict())  # same parameter names: the pools hold none
    pooled.eval(), unpooled.eval()
    torch.testing.assert_close(unpooled.blocks[:2](x), pooled.blocks[:2](x))  # first two blocks identical
    assert [type(m).__name__ for m in unpooled.blocks[3]] == ["NSConv2d" if nsl != "none" else "Conv2d",
                                                              "BatchNorm2d", "ReLU"]


def test_predictor_gamma_reaches_every_dynamic_dns_predictor_and_is_refused_elsewhere():
    from fewshot_nsl.layers.predictors import SimilarityPredictor

    for param in ("disjoint", "shared"):
        net = backbones.build("cnn4", nsl="dynamic-dns", param=param, predictor_gamma=0.25)
        gammas = [p.norm2.weight for p in net.modules() if isinstance(p, SimilarityPredictor)]
        assert len(gammas) == 4 and all(torch.all(g == 0.25) for g in gammas)
    with pytest.raises(ConfigError, match="predictor_gamma=0.1 scales the output BN"):
        backbones.build("cnn4", nsl="static-dns", predictor_gamma=0.1)
    with pytest.raises(ConfigError, match="positive"):
        backbones.build("cnn4", nsl="dynamic-dns", predictor_gamma=0.0)
