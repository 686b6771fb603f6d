"""Static NS convolution against the definition (NSL_SPEC §10 checks 1, 2, 4), float64."""

import pytest
import torch
import torch.nn.functional as F
from ns_reference import D, definition

from fewshot_nsl.core.errors import ConfigError
from fewshot_nsl.layers import NSConv2d
from fewshot_nsl.layers.functional import ns_conv_unfold


@pytest.fixture
def x():
    return torch.randn(2, 3, 7, 6, generator=torch.Generator().manual_seed(0), dtype=D)


def layer(similarity, **kw):
    torch.manual_seed(1)
    return NSConv2d(3, 4, 3, 1, similarity=similarity, **kw).double()


def test_identity_similarity_is_plain_conv(x):
    uns, dns = layer("uns"), layer("dns")
    assert torch.equal(uns.M, torch.eye(9, dtype=D)) and torch.equal(dns.M, torch.ones(9, dtype=D))
    for conv in (uns, dns):
        assert torch.allclose(conv(x), F.conv2d(x, conv.weight, padding=1), atol=1e-12)
        assert conv.bias is None and conv.weight.shape == (4, 3, 3, 3)


def test_random_uns_matches_definition_unfold_and_fold(x):
    conv = layer("uns")
    with torch.no_grad():
        conv.M.copy_(torch.randn(9, 9, dtype=D))
    ref = definition(x, conv.weight, conv.M)
    w_prime = torch.einsum("kq,ock->ocq", conv.M, conv.weight.flatten(2)).view_as(conv.weight)  # W' = M^T W
    out = conv(x)
    assert torch.allclose(out, ref, atol=1e-10)
    assert torch.allclose(F.conv2d(x, w_prime, padding=1), ref, atol=1e-10)
    assert torch.allclose(ns_conv_unfold(x, conv.weight, conv.M, 1), ref, atol=1e-10)
    folded = conv.fold()
    assert type(folded) is torch.nn.Conv2d and torch.allclose(folded(x), ref, atol=1e-10)
    assert torch.allclose(folded.weight, w_prime, atol=1e-12)


def test_random_dns_is_uns_with_diagonal(x):
    dns = layer("dns")
    with torch.no_grad():
        dns.M.copy_(torch.randn(9, dtype=D))
    ref = definition(x, dns.weight, torch.diag(dns.M))
    assert torch.allclose(dns(x), ref, atol=1e-10)
    assert torch.allclose(dns.fold()(x), ref, atol=1e-10)
    assert torch.allclose(ns_conv_unfold(x, dns.weight, dns.M, 1), ref, atol=1e-10)


@pytest.mark.parametrize("q", range(9))
def test_index_convention_centre_row(x, q):
    """M zero except M[centre, q]: the centre kernel tap reads input tap q (1-tap conv shifted by delta_q)."""
    conv = layer("uns")
    with torch.no_grad():
        conv.M.zero_()
        conv.M[4, q] = 1.0
    one_tap = torch.zeros_like(conv.weight)
    one_tap[:, :, q // 3, q % 3] = conv.weight[:, :, 1, 1]
    expected = F.conv2d(x, one_tap, padding=1)
    assert torch.allclose(conv(x), expected, atol=1e-12)
    # explicitly, at an interior position p = (3, 3): y = sum_c W[o, c, centre] x[c, p + delta_q]
    di, dj = q // 3 - 1, q % 3 - 1
    manual = torch.einsum("oc,bc->bo", conv.weight[:, :, 1, 1], x[:, :, 3 + di, 3 + dj])
    assert torch.allclose(conv(x)[:, :, 3, 3], manual, atol=1e-12)


def test_released_dns_init_keeps_diagonal_taps(x):
    conv = layer("dns", dns_init="released")
    assert conv.M.tolist() == [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    mask = torch.eye(3, dtype=D)
    assert torch.allclose(conv(x), F.conv2d(x, conv.weight * mask, padding=1), atol=1e-12)


def test_general_kernel_size_and_stride():
    torch.manual_seed(0)
    x5 = torch.randn(2, 2, 9, 9, dtype=D)
    conv = NSConv2d(2, 3, 5, 2, similarity="uns").double()
    with torch.no_grad():
        conv.M.copy_(torch.randn(25, 25, dtype=D))
    assert torch.allclose(conv(x5), definition(x5, conv.weight, conv.M), atol=1e-9)
    strided = NSConv2d(2, 3, 3, 1, similarity="uns", stride=2).double()
    with torch.no_grad():
        strided.M.copy_(torch.randn(9, 9, dtype=D))
    assert torch.allclose(strided(x5), definition(x5, strided.weight, strided.M)[:, :, ::2, ::2], atol=1e-9)


def test_static_gradcheck_through_w_and_m(x):
    for similarity in ("uns", "dns"):
        conv = layer(similarity, bias=True)
        xs = x[:1, :, :4, :4].clone().requires_grad_()
        m = (conv.M + 0.1 * torch.randn_like(conv.M)).detach().requires_grad_()
        w = conv.weight.detach().clone().requires_grad_()

        def fn(inp, weight, mat):
            return torch.func.functional_call(conv, {"weight": weight, "M": mat}, (inp,))

        assert torch.autograd.gradcheck(fn, (xs, w, m))


def test_uns_regulariser_and_bad_settings():
    conv = layer("uns")
    with torch.no_grad():
        conv.M.copy_(torch.randn(9, 9, dtype=D))
    reg = conv.regularization()
    assert reg.dim() == 0 and torch.allclose(reg, 0.5 * 5e-3 * (conv.M ** 2).sum())
    reg.backward()
    assert torch.allclose(conv.M.grad, 5e-3 * conv.M)
    assert float(layer("dns").regularization()) == 0.0
    with pytest.raises(ConfigError, match="similarity"):
        NSConv2d(3, 4, similarity="full")
    with pytest.raises(ConfigError, match="dns_init"):
        NSConv2d(3, 4, similarity="dns", dns_init="zeros")
