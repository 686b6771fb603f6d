"""finetune and nn: supervised pre-training heads, deterministic episode readouts."""

from __future__ import annotations

import pytest
import torch
from method_helpers import IMAGE_SHAPE, tiny_cnn, tiny_mlp

from fewshot_nsl.core.errors import ConfigError
from fewshot_nsl.methods.finetune import FineTune
from fewshot_nsl.methods.nearest_neighbour import NearestNeighbour


def features(seed=0, way=4, shot=3, query=5, dim=6, spread=4.0):
    g = torch.Generator().manual_seed(seed)
    centres = spread * torch.randn(way, dim, generator=g)
    s_labels = torch.arange(way).repeat_interleave(shot)
    q_labels = torch.arange(way).repeat_interleave(query)
    support = centres[s_labels] + 0.3 * torch.randn(len(s_labels), dim, generator=g)
    query_f = centres[q_labels] + 0.3 * torch.randn(len(q_labels), dim, generator=g)
    return support, s_labels, query_f, q_labels


def test_supervised_heads_cover_the_base_classes():
    for cls in (FineTune, NearestNeighbour):
        method = cls(tiny_cnn(), IMAGE_SHAPE, 11)
        assert method.training_mode == "supervised"
        assert method.classifier.out_features == 11 and method.classifier.in_features == 8
        loss, _ = method.supervised_loss(torch.randn(4, *IMAGE_SHAPE), torch.tensor([0, 3, 10, 3]))
        assert torch.isfinite(loss)


def test_label_smoothing_is_applied():
    method = FineTune(tiny_mlp(), IMAGE_SHAPE, 4, FineTune.Options(label_smoothing=0.2))
    images, labels = torch.randn(3, *IMAGE_SHAPE), torch.tensor([0, 1, 3])
    loss, _ = method.supervised_loss(images, labels)
    logits = method.classifier(method.backbone(images))
    expected = torch.nn.functional.cross_entropy(logits, labels, label_smoothing=0.2)
    torch.testing.assert_close(loss, expected)


def test_finetune_fits_separable_support_and_is_deterministic():
    method = FineTune(tiny_mlp(), IMAGE_SHAPE, 5, FineTune.Options(epochs=30))
    support, s_labels, query, q_labels = features()
    first = method.predict_from_features(support, s_labels, query, 4)
    again = method.predict_from_features(support.clone(), s_labels.clone(), query.clone(), 4)
    assert first.shape == (20, 4) and not first.requires_grad
    assert torch.equal(first, again)
    assert (first.argmax(1) == q_labels).float().mean() == 1.0
    other = method.predict_from_features(support + 1e-3, s_labels, query, 4)
    assert not torch.equal(first, other)  # a different episode draws a different init / order


def test_finetune_does_not_touch_the_backbone_and_works_under_no_grad():
    method = FineTune(tiny_mlp(), IMAGE_SHAPE, 5, FineTune.Options(epochs=2))
    before = {k: v.clone() for k, v in method.state_dict().items()}
    support, s_labels, query, _ = features()
    with torch.no_grad():
        method.predict_from_features(support, s_labels, query, 4)
    assert all(torch.equal(v, before[k]) for k, v in method.state_dict().items())


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_nn_predicts_the_label_of_the_nearest_support_feature(metric):
    method = NearestNeighbour(tiny_mlp(), IMAGE_SHAPE, 5, NearestNeighbour.Options(metric=metric))
    support, s_labels, query, _ = features(spread=0.5)
    logits = method.predict_from_features(support, s_labels, query, 4)
    if metric == "cosine":
        sim = torch.nn.functional.normalize(query, dim=1) @ torch.nn.functional.normalize(support, dim=1).t()
    else:
        sim = -torch.cdist(query, support).pow(2)
    assert torch.equal(logits.argmax(1), s_labels[sim.argmax(1)])
    for j in range(4):  # logit of class j = best similarity to one of its support features
        torch.testing.assert_close(logits[:, j], sim[:, s_labels == j].max(1).values, rtol=1e-5, atol=1e-4)
    assert torch.equal(logits, method.predict_from_features(support, s_labels, query, 4))


def test_bad_options_are_config_errors():
    with pytest.raises(ConfigError, match="method.metric"):
        NearestNeighbour(tiny_mlp(), IMAGE_SHAPE, 5, NearestNeighbour.Options(metric="manhattan"))
    with pytest.raises(ConfigError, match="method.epochs"):
        FineTune(tiny_mlp(), IMAGE_SHAPE, 5, FineTune.Options(epochs=0))
