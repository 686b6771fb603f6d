"""The ``fsphere`` dynamic predictor against its definition (NSL_SPEC §3.2, third row; the released code's
``nsl_fspherenet``): cos3x3(C -> 64), BN, ReLU, cos3x3(64 -> 9), BN, + 1, where cos divides the conv output at p
by sqrt(sum of the zero-padded 3x3xC input patch^2 + 1e-4) and by sqrt(sum of the filter^2 + 1e-4)."""

import pytest
import torch
import torch.nn.functional as F
from ns_reference import D, definition, rand

from fewshot_nsl import backbones
from fewshot_nsl.core.errors import ConfigError
from fewshot_nsl.layers import NSConv2d, NSOptions
from fewshot_nsl.layers.predictors import CosineConv2d, FSpherePredictor, PredictorTrunk

EPS = 1e-4  # both norms (released code: _get_input_norm, _get_filter_norm)
BN_EPS = 1e-3


def cosine_conv(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """By its definition, one output channel and position at a time: <w_d, patch_p> / (|patch_p| |w_d|)."""
    b, c, h, w = x.shape
    xp = F.pad(x, (1, 1, 1, 1))
    out = torch.zeros(b, weight.shape[0], h, w, dtype=x.dtype)
    for d in range(weight.shape[0]):
        w_norm = torch.sqrt((weight[d] ** 2).sum() + EPS)
        for i in range(h):
            for j in range(w):
                patch = xp[:, :, i:i + 3, j:j + 3]
                x_norm = torch.sqrt((patch ** 2).sum((1, 2, 3)) + EPS)
                out[:, d, i, j] = (patch * weight[d]).sum((1, 2, 3)) / (x_norm * w_norm)
    return out


def batch_norm(h: torch.Tensor, bn: torch.nn.BatchNorm2d) -> torch.Tensor:
    """Training-mode BN by its definition: batch mean and biased variance over (N, H, W), eps 1e-3."""
    mean = h.mean((0, 2, 3), keepdim=True)
    var = ((h - mean) ** 2).mean((0, 2, 3), keepdim=True)
    return (h - mean) / torch.sqrt(var + BN_EPS) * bn.weight.view(1, -1, 1, 1) + bn.bias.view(1, -1, 1, 1)


def fsphere_definition(x: torch.Tensor, predictor: FSpherePredictor) -> torch.Tensor:
    trunk = predictor.trunk
    h = torch.relu(batch_norm(cosine_conv(x, trunk.conv1.weight), predictor.norm1))
    return batch_norm(cosine_conv(h, trunk.conv2.weight), predictor.norm2) + 1.0


def perturbed(predictor: FSpherePredictor) -> FSpherePredictor:
    """Non-trivial BN affine parameters, so that they enter the comparison."""
    with torch.no_grad():
        for bn in (predictor.norm1, predictor.norm2):
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.2, 0.2)
    return predictor


def test_cosine_conv_matches_its_definition_and_ignores_the_filter_scale_up_to_eps():
    torch.manual_seed(0)
    conv = CosineConv2d(3, 4, 3).to(D)
    x = rand(2, 3, 5, 6)
    torch.testing.assert_close(conv(x), cosine_conv(x, conv.weight), rtol=1e-10, atol=1e-12)
    with torch.no_grad():
        conv.weight.mul_(1e3)  # |w|^2 >> eps: a cosine, in [-1, 1]
    assert conv(x).abs().max() <= 1.0


@pytest.mark.parametrize("size", [(5, 7), (4, 4)])
def test_fsphere_predictor_matches_its_definition(size):
    torch.manual_seed(0)
    predictor = perturbed(FSpherePredictor(3, "dns", 9).to(D)).train()
    assert isinstance(predictor.trunk.conv1, CosineConv2d) and isinstance(predictor.trunk.conv2, CosineConv2d)
    assert predictor.trunk.conv1.weight.shape == (64, 3, 3, 3) and predictor.trunk.conv2.weight.shape == (9, 64, 3, 3)
    x = rand(3, 3, *size)
    torch.testing.assert_close(predictor(x), fsphere_definition(x, predictor), rtol=1e-9, atol=1e-10)


def test_fsphere_layer_matches_the_ns_definition_and_gradcheck():
    torch.manual_seed(0)
    layer = NSConv2d(2, 3, similarity="dns", dynamic=True, predictor_kind="fsphere", hidden=5).to(D)
    perturbed(layer.predictor)
    x = rand(2, 2, 4, 5)
    m = layer.similarity_matrix(x)  # (B, 9, H, W) diagonal
    full = torch.diag_embed(m.permute(0, 2, 3, 1)).permute(0, 3, 4, 1, 2)  # (B, 9, 9, H, W)
    torch.testing.assert_close(m, fsphere_definition(x, layer.predictor), rtol=1e-9, atol=1e-10)
    torch.testing.assert_close(layer(x), definition(x, layer.weight, full), rtol=1e-9, atol=1e-10)
    xg = x.clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda t: layer(t), (xg,), atol=1e-6)
    params = [layer.predictor.trunk.conv1.weight, layer.predictor.trunk.conv2.weight]
    assert torch.autograd.gradcheck(lambda a, b: torch.func.functional_call(
        layer, {"predictor.trunk.conv1.weight": a, "predictor.trunk.conv2.weight": b}, (x,)),
        tuple(p.detach().clone().requires_grad_() for p in params), atol=1e-6)


def test_fsphere_is_dns_only_and_its_gamma_sets_the_initial_spread():
    """The filter norm of the 0.001-scale second conv is dominated by its eps (|w|^2 ~ 2e-6 << 1e-4), so that
    conv's output is about ten times the spec predictor's at init: m starts about 0.15 gamma around 1 (spec:
    about 0.015), gamma being the output BN's (``model.predictor_gamma``)."""
    with pytest.raises(ConfigError, match="fsphere"):
        FSpherePredictor(3, "uns", 9)
    with pytest.raises(ConfigError, match="predictor=fsphere"):
        NSOptions(nsl="dynamic-uns", predictor="fsphere")
    x = torch.randn(4, 4, 8, 8)
    spread = {}
    for kind, gamma in (("spec", 1.0), ("fsphere", 1.0), ("fsphere", 0.1)):
        torch.manual_seed(0)
        layer = NSConv2d(4, 4, similarity="dns", dynamic=True, predictor_kind=kind, predictor_gamma=gamma)
        spread[kind, gamma] = float((layer.similarity_matrix(x).detach() - 1).std())
    assert 0.1 < spread["fsphere", 1.0] < 0.3 and spread["spec", 1.0] < 0.03
    assert spread["fsphere", 0.1] == pytest.approx(0.1 * spread["fsphere", 1.0], rel=1e-4)


def test_fsphere_reaches_every_layer_disjoint_and_shared():
    for param in ("disjoint", "shared"):
        net = backbones.build("cnn4", nsl="dynamic-dns", param=param, predictor="fsphere")
        layers = [m for m in net.modules() if isinstance(m, NSConv2d)]
        assert len(layers) == 4 and all(type(la.predictor) is FSpherePredictor for la in layers)
        assert all(isinstance(la.predictor.trunk_module.conv2, CosineConv2d) for la in layers)
        net(torch.randn(2, 3, 16, 16)).sum().backward()
    with pytest.raises(ConfigError, match="cosine"):
        FSpherePredictor(8, "dns", 9, trunk=PredictorTrunk(64, 64, 9))
