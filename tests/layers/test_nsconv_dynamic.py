"""Dynamic NS convolution: routes, index convention, init, gradients, predictor (NSL_SPEC §3, §10: 3-6)."""

import pytest
import torch
import torch.nn.functional as F
from ns_reference import D, definition, rand

from fewshot_nsl.core.errors import ConfigError
from fewshot_nsl.layers import NSConv2d, unfold_route
from fewshot_nsl.layers.functional import ns_conv_shift, ns_conv_unfold

ROUTES = {"unfold": ns_conv_unfold, "shift": ns_conv_shift}


def diag_embed(m):
    """(B, K, H, W) diagonal -> (B, K, K, H, W) matrix."""
    return torch.diag_embed(m.permute(0, 2, 3, 1)).permute(0, 3, 4, 1, 2)


@pytest.mark.parametrize("route", ROUTES)
def test_routes_match_definition_for_random_per_position_m(route):
    x, w = rand(2, 3, 6, 5), rand(4, 3, 3, 3, seed=1)
    m_uns, m_dns = rand(2, 9, 9, 6, 5, seed=2), rand(2, 9, 6, 5, seed=3)
    fn = ROUTES[route]
    assert torch.allclose(fn(x, w, m_uns, 1), definition(x, w, m_uns), atol=1e-10)
    assert torch.allclose(fn(x, w, m_dns, 1), definition(x, w, diag_embed(m_dns)), atol=1e-10)
    # DNS equals UNS with the diagonal M
    assert torch.allclose(fn(x, w, m_dns, 1), fn(x, w, diag_embed(m_dns), 1), atol=1e-10)


def test_routes_agree_with_bias_and_5x5():
    x, w, bias = rand(2, 2, 7, 7), rand(3, 2, 5, 5, seed=1), rand(3, seed=4)
    m = rand(2, 25, 25, 7, 7, seed=2)
    a, b = ns_conv_unfold(x, w, m, 2, bias), ns_conv_shift(x, w, m, 2, bias)
    assert torch.allclose(a, b, atol=1e-9)
    assert torch.allclose(a, definition(x, w, m) + bias[:, None, None], atol=1e-9)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("q", [0, 2, 4, 7])
def test_index_convention_dynamic(route, q):
    """M_p zero except M_p[centre, q] at every position: a 1-tap conv shifted by delta_q."""
    x, w = rand(2, 3, 6, 5), rand(4, 3, 3, 3, seed=1)
    m = torch.zeros(2, 9, 9, 6, 5, dtype=D)
    m[:, 4, q] = 1.0
    one_tap = torch.zeros_like(w)
    one_tap[:, :, q // 3, q % 3] = w[:, :, 1, 1]
    assert torch.allclose(ROUTES[route](x, w, m, 1), F.conv2d(x, one_tap, padding=1), atol=1e-12)


@pytest.mark.parametrize("shape", [(3, 9, 5, 4), (3, 9, 9, 5, 4)], ids=["dns", "uns"])
def test_chunked_unfold_function_gradients(monkeypatch, shape):
    """One sample per chunk: values, gradients and second derivatives of the chunked Function."""
    monkeypatch.setitem(unfold_route.CHUNK_ELEMENTS, "cpu", 1)
    x, w, m = rand(3, 2, 5, 4), rand(3, 2, 3, 3, seed=1), rand(*shape, seed=2)
    full = m if m.dim() == 5 else diag_embed(m)
    assert torch.allclose(ns_conv_unfold(x, w, m, 1), definition(x, w, full), atol=1e-10)
    inputs = tuple(t.clone().requires_grad_() for t in (x, w, m))
    # gradients equal those of the plain-autograd shift route
    g_out = rand(3, 3, 5, 4, seed=3)
    grads_unfold = torch.autograd.grad(ns_conv_unfold(*inputs, 1), inputs, g_out)
    grads_shift = torch.autograd.grad(ns_conv_shift(*inputs, 1), inputs, g_out)
    for a, b in zip(grads_unfold, grads_shift):
        assert torch.allclose(a, b, atol=1e-10)
    small = (x[:2].clone().requires_grad_(), w.clone().requires_grad_(), m[:2].clone().requires_grad_())

    def fn(*ts):
        return ns_conv_unfold(ts[0], ts[1], ts[2], 1)

    assert torch.autograd.gradcheck(fn, small, fast_mode=True)
    assert torch.autograd.gradgradcheck(fn, small, fast_mode=True)
    # only some inputs need a gradient (e.g. the images of the first layer)
    w_only = w.clone().requires_grad_()
    (gw,) = torch.autograd.grad(ns_conv_unfold(x, w_only, m, 1), (w_only,), g_out)
    assert torch.allclose(gw, grads_shift[1], atol=1e-10)


def dynamic(similarity, route="unfold", seed=0, **kw):
    torch.manual_seed(seed)
    return NSConv2d(4, 5, 3, 1, similarity=similarity, dynamic=True, route=route, **kw).double()


@pytest.mark.parametrize("similarity", ["dns", "uns"])
def test_layer_equals_definition_with_its_predicted_m_both_routes(similarity):
    x = rand(3, 4, 6, 6)
    a, b = dynamic(similarity, "unfold"), dynamic(similarity, "shift")
    b.load_state_dict(a.state_dict())
    with torch.no_grad():  # move M away from the identity so that the check is not trivial
        a.predictor.trunk_module.conv2.weight.normal_(0, 0.3)
        b.predictor.trunk_module.conv2.weight.copy_(a.predictor.trunk_module.conv2.weight)
    for layer in (a, b):
        layer.eval()
    m = a.similarity_matrix(x)
    full = m if similarity == "uns" else diag_embed(m)
    assert m.shape == ((3, 9, 9, 6, 6) if similarity == "uns" else (3, 9, 6, 6))
    assert (full - torch.eye(9, dtype=D)[:, :, None, None]).abs().max() > 0.1
    ref = definition(x, a.weight, full)
    assert torch.allclose(a(x), ref, atol=1e-10) and torch.allclose(b(x), ref, atol=1e-10)


def test_dynamic_uns_at_init_is_near_plain_conv():
    x = rand(4, 4, 10, 10)
    for seed in range(3):
        layer = dynamic("uns", seed=seed).train()
        plain = F.conv2d(x, layer.weight, padding=1)
        rel = (layer(x) - plain).norm() / plain.norm()
        assert rel < 1e-3


def test_dynamic_dns_at_init_is_near_plain_conv():
    x = rand(4, 4, 10, 10)
    layer = dynamic("dns")
    plain = F.conv2d(x, layer.weight, padding=1)
    # training-mode BN with eps 1e-3 turns the ~1e-3 pre-BN outputs into deviations of a few percent (§3.2)
    assert (layer.train()(x) - plain).norm() / plain.norm() < 0.1
    assert (layer.eval()(x) - plain).norm() / plain.norm() < 1e-3


@pytest.mark.parametrize("similarity", ["dns", "uns"])
def test_gradcheck_through_input_weight_and_predictor(similarity):
    layer = dynamic(similarity, hidden=3).train()
    with torch.no_grad():
        layer.predictor.trunk_module.conv2.weight.normal_(0, 0.5)
    names = ["weight"] + [f"predictor.{n}" for n, _ in layer.predictor.named_parameters()]
    params = dict(layer.named_parameters())
    tensors = [params[n].detach().clone().requires_grad_() for n in names]
    x = rand(2, 4, 4, 4).requires_grad_()

    def fn(inp, *ts):
        return torch.func.functional_call(layer, dict(zip(names, ts)), (inp,))

    assert torch.autograd.gradcheck(fn, (x, *tensors), atol=1e-6, fast_mode=True)


@pytest.mark.parametrize("similarity", ["dns", "uns"])
def test_m_depends_on_the_input_within_a_5x5_window(similarity):
    layer = dynamic(similarity).eval()
    with torch.no_grad():
        layer.predictor.trunk_module.conv2.weight.normal_(0, 0.3)
    x = rand(1, 4, 9, 9)
    x2 = x.clone()
    x2[0, :, 4, 4] += 3.0
    with torch.no_grad():
        diff = (layer.similarity_matrix(x) - layer.similarity_matrix(x2)).abs()
    diff = diff.flatten(1, -3).amax(1)[0]  # (H, W): largest change of M at each position
    window = torch.zeros(9, 9, dtype=torch.bool)
    window[2:7, 2:7] = True
    assert diff[window].min() > 0 and diff[4, 4] > 1e-3
    assert diff[~window].max() == 0
    # and the gradient reaches the predictor through the output
    layer.train()
    layer(x).pow(2).sum().backward()
    assert layer.predictor.trunk_module.conv1.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("similarity", ["dns", "uns"])
def test_batch_norm_modes_and_batch_size_one(similarity):
    layer = NSConv2d(3, 4, similarity=similarity, dynamic=True)
    x = torch.randn(1, 3, 5, 5)
    for mode in (True, False):
        out = layer.train(mode)(x)
        assert out.shape == (1, 4, 5, 5) and torch.isfinite(out).all()
    assert float(layer.regularization()) == 0.0


def test_dynamic_needs_same_padding_and_stride_one():
    with pytest.raises(ConfigError, match="dynamic NSConv2d"):
        NSConv2d(3, 4, 3, 0, similarity="dns", dynamic=True)
    with pytest.raises(ConfigError, match="dynamic NSConv2d"):
        NSConv2d(3, 4, 3, 1, similarity="dns", dynamic=True, stride=2)
    with pytest.raises(ConfigError, match="route"):
        NSConv2d(3, 4, similarity="dns", dynamic=True, route="fast")
    with pytest.raises(TypeError):
        NSConv2d(3, 4, similarity="dns", dynamic=True).fold()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("route", ROUTES)
def test_dynamic_layer_on_cuda_matches_cpu(route):
    layer = dynamic("uns", route).eval()
    x = rand(2, 4, 6, 6)
    expected = layer(x)
    got = layer.cuda()(x.cuda()).cpu()
    assert torch.allclose(got, expected, atol=1e-8)


@pytest.mark.parametrize("similarity", ["dns", "uns"])
def test_dynamic_layer_under_cpu_autocast(similarity):
    torch.manual_seed(0)
    layer = NSConv2d(3, 4, similarity=similarity, dynamic=True)
    x = torch.randn(2, 3, 6, 6)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = layer(x)
    assert y.dtype == torch.bfloat16
    y.float().sum().backward()
    assert layer.weight.grad is not None and layer.predictor.trunk_module.conv1.weight.grad is not None
    ref = layer(x)
    assert (y.float() - ref).norm() / ref.norm() < 0.05


def test_predictor_gamma_scales_the_spread_of_the_predicted_diagonal():
    """DNS: m = 1 + gamma * (batch-normalised signal) once the pre-BN variance exceeds eps (NSL_SPEC §3.2)."""
    x = rand(8, 4, 8, 8)
    spreads = {}
    for gamma in (1.0, 0.1):
        layer = dynamic("dns", predictor_gamma=gamma).train()
        assert torch.allclose(layer.predictor.norm2.weight, torch.tensor(gamma, dtype=torch.float64))
        with torch.no_grad():
            layer.predictor.trunk_module.conv2.weight.normal_(0, 1.0)  # a trained-like, far-above-eps output
            m = layer.predictor(x)
        spreads[gamma] = (m - 1).std().item()
    assert spreads[1.0] == pytest.approx(1.0, rel=0.05)
    assert spreads[0.1] == pytest.approx(0.1, rel=0.05)


def test_predictor_gamma_needs_a_dns_output_bn():
    with pytest.raises(ConfigError, match="UNS predictor has no output BN"):
        dynamic("uns", predictor_gamma=0.1)
    with pytest.raises(ConfigError, match="needs a dynamic layer"):
        NSConv2d(4, 5, similarity="dns", predictor_gamma=0.1)
