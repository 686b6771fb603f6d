"""Every built-in method (on a tiny plain CNN-4) honours the FewShotMethod contract the trainer and the
evaluator rely on: shapes, finite losses that reach the backbone, feature-cache consistency, learning."""

from __future__ import annotations

import pytest
import torch
from method_cases import case_id, plain_cases
from method_helpers import IMAGE_SHAPE, synthetic_episode, tiny_cnn, tiny_mlp

from fewshot_nsl.methods import get_method

NUM_BASE = 7
# (method, options): every registered plain-backbone method, default options (int options capped at 20, e.g.
# finetune's support-fitting epochs), each bool option flipped, and method_cases.EXTRA_VARIANTS. The NS methods
# are tested in test_nsn_methods.py / test_metastatic_fast_weights.py.
CASES = plain_cases(cap=20)
IDS = [case_id(name, opts) for name, opts in CASES]


def build(name, options, backbone, way=3):
    cls = get_method(name)
    return cls(backbone, IMAGE_SHAPE, NUM_BASE, cls.Options(**options), train_way=way)


def training_loss(method, ep, seed=1):
    """The loss the trainer would compute: through forward(), on an episode or a base-class batch."""
    if method.training_mode == "supervised":
        g = torch.Generator().manual_seed(seed)
        labels = torch.arange(NUM_BASE).repeat(2)
        patterns = torch.randn(NUM_BASE, *IMAGE_SHAPE, generator=g)
        images = patterns[labels] + 0.5 * torch.randn(len(labels), *IMAGE_SHAPE, generator=g)
        return method((images, labels))
    return method(ep)


@pytest.mark.parametrize("name,options", CASES, ids=IDS)
def test_predict_shape_and_finite(name, options):
    method = build(name, options, tiny_cnn())
    method.eval()
    ep = synthetic_episode(way=3, shot=2, query=4)
    with torch.set_grad_enabled(method.features_depend_on_episode):
        logits = method.predict(ep.support, ep.support_labels, ep.query, ep.way)
    assert logits.shape == (12, 3)
    assert torch.isfinite(logits).all()
    assert logits.grad_fn is None or not method.features_depend_on_episode


@pytest.mark.parametrize("name,options", CASES, ids=IDS)
def test_loss_is_finite_and_reaches_the_backbone(name, options):
    method = build(name, options, tiny_cnn())
    method.train()
    loss, metrics = training_loss(method, synthetic_episode())
    assert loss.dim() == 0 and torch.isfinite(loss)
    assert 0.0 <= metrics["accuracy"] <= 1.0
    loss.backward()
    grads = [p.grad for p in method.backbone.parameters() if p.grad is not None]
    assert grads and sum(float(g.abs().sum()) for g in grads) > 0


CACHEABLE = [c for c in CASES if not get_method(c[0]).features_depend_on_episode]


@pytest.mark.parametrize("name,options", CACHEABLE, ids=[case_id(*c) for c in CACHEABLE])
def test_feature_cache_gives_the_same_logits(name, options):
    """The evaluator embeds each image once and calls predict_from_features: it must equal predict."""
    method = build(name, options, tiny_cnn())
    if method.features_depend_on_episode:  # set by these options (RelationNet's transductive_bn)
        pytest.skip("with these options the features depend on the episode: the evaluator does not cache them")
    method.train()
    training_loss(method, synthetic_episode())  # move BN running stats away from their init
    method.eval()
    ep = synthetic_episode(seed=3)
    with torch.no_grad():
        direct = method.predict(ep.support, ep.support_labels, ep.query, ep.way)
        cached = method.predict_from_features(method.embed(ep.support), ep.support_labels, method.embed(ep.query),
                                              ep.way)
    torch.testing.assert_close(direct, cached, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name,options", CASES, ids=IDS)
def test_a_few_steps_reduce_the_loss(name, options):
    method = build(name, options, tiny_cnn(seed=2))
    method.train()
    ep = synthetic_episode(seed=4)
    optimizer = torch.optim.Adam(method.parameters(), lr=3e-3)
    first = None
    for _ in range(12):
        loss, _ = training_loss(method, ep)
        first = float(loss.detach()) if first is None else first
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    final, _ = training_loss(method, ep)
    assert float(final.detach()) < 0.9 * first


def test_unknown_options_are_rejected():
    from fewshot_nsl.core.errors import ConfigError
    from fewshot_nsl.runtime.config import resolve_config

    with pytest.raises(ConfigError, match="method.inner_stepz"):
        resolve_config("maml", overrides=["method.inner_stepz=3"])
    with pytest.raises(ConfigError, match="method.metric"):
        resolve_config("nn", overrides=["method.metric=7"])


@pytest.mark.parametrize("name,options", CASES, ids=IDS)
def test_a_user_module_backbone_works(name, options):
    """``--backbone module:Class``: a user's nn.Module returning (B, D) vectors (wrapped, maps of 1x1)."""
    method = build(name, options, tiny_mlp())
    method.train()
    loss, _ = training_loss(method, synthetic_episode())
    loss.backward()
    assert method.backbone.module.fc.weight.grad.abs().sum() > 0
    method.eval()
    ep = synthetic_episode(seed=5)
    with torch.set_grad_enabled(method.features_depend_on_episode):
        assert method.predict(ep.support, ep.support_labels, ep.query, ep.way).shape == (9, 3)
