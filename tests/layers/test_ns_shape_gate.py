"""Learned kernel shape M_s = D M D with a straight-through binary gate (NSL_SPEC §5)."""

import pytest
import torch
import torch.nn.functional as F

from fewshot_nsl.core.errors import ConfigError
from fewshot_nsl.layers import NSConv2d, ShapeGate

D = torch.float64


def test_gate_forward_is_binary_and_backward_is_sigmoid():
    gate = ShapeGate(9).double()
    with torch.no_grad():
        gate.logits.copy_(torch.tensor([3.0, -2.0, 0.5, -0.1, 1.0, 2.0, -3.0, 0.2, -0.5], dtype=D))
    d = gate()
    assert d.tolist() == [1, 0, 1, 0, 1, 1, 0, 1, 0]
    assert gate.shape() == [1, 0, 1, 0, 1, 1, 0, 1, 0]
    weights = torch.arange(9, dtype=D)
    (d * weights).sum().backward()
    s = torch.sigmoid(gate.logits.detach())
    assert torch.allclose(gate.logits.grad, weights * s * (1 - s))
    assert torch.allclose(gate.regularization(), 1e-4 * s.sum())


def test_soft_gate_and_bad_mode():
    gate = ShapeGate(9, mode="soft")
    assert torch.allclose(gate(), torch.sigmoid(torch.full((9,), 3.0)))
    with pytest.raises(ConfigError, match="gate mode"):
        ShapeGate(9, mode="hard")


@pytest.mark.parametrize("similarity,dynamic", [("uns", False), ("dns", False), ("uns", True), ("dns", True)])
def test_masked_layer_equals_d_m_d(similarity, dynamic):
    torch.manual_seed(0)
    layer = NSConv2d(3, 4, similarity=similarity, dynamic=dynamic, learn_shape=True).double().eval()
    x = torch.randn(2, 3, 6, 6, dtype=D)
    ungated = NSConv2d(3, 4, similarity=similarity, dynamic=dynamic).double().eval()
    ungated.load_state_dict(layer.state_dict(), strict=False)
    assert torch.allclose(layer(x), ungated(x), atol=1e-12)  # init: every tap on
    if not dynamic:
        with torch.no_grad():
            layer.M.add_(0.3 * torch.randn_like(layer.M))
    off = [0, 2, 5]
    with torch.no_grad():
        layer.gate.logits[off] = -4.0
    assert layer.kernel_shape() == [0, 1, 0, 1, 1, 0, 1, 1, 1]
    d = torch.ones(9, dtype=D)
    d[off] = 0
    m = layer.similarity_matrix(x)
    raw = layer.M if not dynamic else layer.predictor(x)
    if similarity == "dns":
        expected = raw * (d * d).view(-1, *([1, 1] if dynamic else []))
    else:
        tail = [1, 1] if dynamic else []
        expected = raw * d.view(-1, 1, *tail) * d.view(1, -1, *tail)
    assert torch.allclose(m, expected)
    if not dynamic:  # a switched-off tap is neither read (column) nor used as a kernel tap (row)
        y = F.conv2d(x, layer.fold().weight, padding=1)
        assert torch.allclose(layer(x), y, atol=1e-12)
        assert torch.all(layer.fold().weight.flatten(2)[:, :, off] == 0)
    assert layer.regularization() > 0


def test_gate_is_trained_by_the_l1_penalty():
    layer = NSConv2d(2, 2, similarity="uns", learn_shape=True)
    layer.regularization().backward()
    s = torch.sigmoid(layer.gate.logits.detach())
    expected = 1e-4 * s * (1 - s)  # d(l1 * sum sigmoid(a)) / da; the M part has no logits
    assert torch.allclose(layer.gate.logits.grad, expected)
