"""RelationNet: scores in [0, 1], class maps are sums of support maps, MSE to one-hot, 5x5 maps work."""

from __future__ import annotations

import torch
from method_helpers import IMAGE_SHAPE, synthetic_episode, tiny_cnn
from torch import nn

from fewshot_nsl.methods.relationnet import RelationModule, RelationNet


def test_scores_lie_in_unit_interval_and_loss_is_mse_to_one_hot():
    method = RelationNet(tiny_cnn(), IMAGE_SHAPE, 5)
    ep = synthetic_episode(way=3, shot=2, query=4)
    scores = method.predict(ep.support, ep.support_labels, ep.query, ep.way)
    assert scores.shape == (12, 3)
    assert (scores >= 0).all() and (scores <= 1).all()
    # the loss recomputes the same (train-mode BN) scores
    loss, _ = method.loss(ep)
    expected = ((scores - nn.functional.one_hot(ep.query_labels, 3).float()) ** 2).mean()
    torch.testing.assert_close(loss, expected)


def test_each_pair_is_class_map_sum_then_query_map():
    """Score (q, j) = relation(cat(sum of class j's support maps, map of q)), computed pair by pair."""
    method = RelationNet(tiny_cnn(depth=2), IMAGE_SHAPE, 5)  # 16x16 -> 8x4x4 maps
    method.eval()
    assert method.map_shape == (8, 4, 4)
    g = torch.Generator().manual_seed(0)
    support = torch.randn(5, 8 * 16, generator=g)
    labels = torch.tensor([1, 0, 1, 2, 1])
    query = torch.randn(2, 8 * 16, generator=g)
    scores = method.predict_from_features(support, labels, query, 3)
    maps_s, maps_q = support.view(5, 8, 4, 4), query.view(2, 8, 4, 4)
    for q in range(2):
        for j in range(3):
            class_map = maps_s[labels == j].sum(0)
            pair = torch.cat([class_map, maps_q[q]])[None]
            torch.testing.assert_close(scores[q, j], method.relation(pair)[0])


def test_relation_module_sizes():
    """CNN-4 at 84x84 gives 64x5x5 maps: padded convs, 5 -> 2 -> 1 (CloserLook); 19x19 unpadded -> 3x3 (Sung);
    a side of 1 is not pooled (3x6 -> 1x3 -> 1x3)."""
    for (c, h, w), fc_in in (((64, 5, 5), 64), ((64, 19, 19), 64 * 3 * 3), ((4, 1, 1), 64), ((4, 3, 6), 64 * 1 * 3)):
        module = RelationModule(c, h, w)
        assert module.fc[0].in_features == fc_in
        out = module(torch.randn(6, 2 * c, h, w))
        assert out.shape == (6,)


def test_sung_initialisation_keeps_every_hidden_unit_alive():
    """FC biases of 1 and N(0, 0.01^2) weights: every hidden ReLU is active at the start (with PyTorch's default
    init all 8 can die, and the module collapses to a constant score)."""
    torch.manual_seed(0)
    module = RelationModule(64, 2, 2)
    fc_in, hidden_layer = module.fc[0], module.fc[1]
    assert torch.equal(fc_in.bias, torch.ones_like(fc_in.bias))
    assert float(fc_in.weight.detach().std()) < 0.02
    pairs = torch.randn(200, 128, 2, 2)
    hidden = hidden_layer(fc_in(module.convs(pairs).flatten(1)))
    assert bool((hidden > 0).all())
