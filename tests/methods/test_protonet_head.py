"""ProtoNet (and the NSN methods, which share its head): logits are minus squared distances to class means."""

from __future__ import annotations

import torch
from method_helpers import IMAGE_SHAPE, tiny_mlp

from fewshot_nsl.methods.protonet import ProtoNet, prototypes, squared_euclidean


def test_logits_are_minus_squared_distances_to_hand_computed_means():
    support = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 3.0], [1.0, 1.0], [5.0, 5.0]])
    labels = torch.tensor([0, 0, 1, 2, 2])
    query = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    means = torch.tensor([[1.0, 0.0], [0.0, 3.0], [3.0, 3.0]])
    expected = torch.tensor([[-0.0, -10.0, -13.0], [-1.0, -9.0, -18.0]])
    method = ProtoNet(tiny_mlp(), IMAGE_SHAPE, 5)
    torch.testing.assert_close(prototypes(support, labels, 3), means)
    torch.testing.assert_close(method.predict_from_features(support, labels, query, 3), expected)


def test_squared_euclidean_matches_cdist():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(7, 5, generator=g), torch.randn(3, 5, generator=g)
    torch.testing.assert_close(squared_euclidean(a, b), torch.cdist(a, b).pow(2), rtol=1e-5, atol=1e-5)
