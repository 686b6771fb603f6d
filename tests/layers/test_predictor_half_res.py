"""The cheaper ``half-res`` dynamic predictor against its definition (issue 12)."""

import pytest
import torch
import torch.nn.functional as F
from ns_reference import D, definition, rand

from fewshot_nsl.core.errors import ConfigError
from fewshot_nsl.layers import NSConv2d
from fewshot_nsl.layers.predictors import PREDICTORS, HalfResolutionPredictor, SimilarityPredictor


def twin(similarity: str, in_channels: int = 3):
    """A half-res predictor and a spec predictor with the same weights (float64)."""
    torch.manual_seed(0)
    half = HalfResolutionPredictor(in_channels, similarity, 9).to(D)
    spec = SimilarityPredictor(in_channels, similarity, 9).to(D)
    spec.load_state_dict(half.state_dict())
    return half, spec


@pytest.mark.parametrize("similarity", ["dns", "uns"])
@pytest.mark.parametrize("size", [(6, 8), (5, 7)], ids=["even", "odd"])
def test_half_res_is_spec_predictor_on_pooled_input_repeated_per_block(similarity, size):
    half, spec = twin(similarity)
    x = rand(2, 3, *size)
    m = half(x)
    coarse = spec(F.avg_pool2d(x, 2, ceil_mode=True))
    assert m.shape[-2:] == x.shape[-2:] and m.shape[:-2] == coarse.shape[:-2]
    h, w = size
    for i in range(h):
        for j in range(w):
            assert torch.equal(m[..., i, j], coarse[..., i // 2, j // 2])
    if h % 2 and w % 2:  # the odd corner's cell averages only the pixel inside the image
        assert torch.allclose(F.avg_pool2d(x, 2, ceil_mode=True)[..., -1, -1], x[..., -1, -1])


def test_half_res_dynamic_layer_matches_definition_and_gradcheck():
    torch.manual_seed(0)
    layer = NSConv2d(2, 3, similarity="uns", dynamic=True, predictor_kind="half-res").to(D)
    assert isinstance(layer.predictor, HalfResolutionPredictor)
    x = rand(2, 2, 5, 4)
    m = layer.similarity_matrix(x)
    assert torch.allclose(layer(x), definition(x, layer.weight, m), atol=1e-10)
    xg = x.clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda t: layer(t), (xg,), atol=1e-6)


def test_half_res_starts_near_identity_and_costs_a_quarter():
    torch.manual_seed(0)
    layer = NSConv2d(4, 4, similarity="uns", dynamic=True, predictor_kind="half-res")
    x = torch.randn(2, 4, 8, 8)
    assert torch.allclose(layer.similarity_matrix(x), torch.eye(9)[None, :, :, None, None].expand(2, 9, 9, 8, 8),
                          atol=1e-2)
    calls = []
    layer.predictor.trunk.conv2.register_forward_hook(lambda mod, a, out: calls.append(out.shape[-2:]))
    layer(x)
    assert calls == [torch.Size([4, 4])]


def test_predictor_kind_is_checked():
    assert set(PREDICTORS) == {"spec", "half-res", "fsphere"}
    assert type(NSConv2d(3, 4, similarity="dns", dynamic=True).predictor) is SimilarityPredictor
    with pytest.raises(ConfigError, match="'quarter'"):
        NSConv2d(3, 4, dynamic=True, predictor_kind="quarter")
