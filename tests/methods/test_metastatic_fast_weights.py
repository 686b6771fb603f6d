"""metastatic: the inner loop adapts the similarity matrices M and the head, and nothing else."""

from __future__ import annotations

import pytest
import torch
from method_helpers import assert_a_few_steps_reduce_the_loss, IMAGE_SHAPE, synthetic_episode, tiny_cnn, tiny_mlp

from fewshot_nsl.core.errors import ConfigError
from fewshot_nsl.layers.introspect import similarity_parameter_names
from fewshot_nsl.methods.maml import task_mode
from fewshot_nsl.methods.metastatic import MetaStaticNSN


def make(nsl="static-uns", backbone_options=None, **options):
    backbone = tiny_cnn(nsl=nsl, **(backbone_options or {}))
    return MetaStaticNSN(backbone, IMAGE_SHAPE, 5, MetaStaticNSN.Options(**options), train_way=3)


@pytest.mark.parametrize("nsl,shape,backbone_options,layers", [
    ("static-uns", (9, 9), {}, 4),  # every conv of CNN-4 is an NS layer
    ("static-dns", (9,), {}, 4),
    ("static-uns", (9, 9), {"learn_shape": True}, 4),  # shape gates are not fast weights
    ("static-uns", (9, 9), {"plain_first_layer": True}, 3),
])
def test_fast_weights_are_exactly_the_similarity_parameters_and_the_head(nsl, shape, backbone_options, layers):
    method = make(nsl, backbone_options, inner_steps=2)
    ns_names = similarity_parameter_names(method.backbone)
    params = dict(method.backbone.named_parameters())
    assert len(ns_names) == layers
    assert all(n.endswith(".M") for n in ns_names)
    assert all(tuple(params[n].shape) == shape for n in ns_names)
    ep = synthetic_episode()
    with task_mode(method):
        fast = method.adapt(ep.support, ep.support_labels, steps=2, create_graph=False)
    assert set(fast) == {f"backbone.{n}" for n in ns_names} | {"head.weight", "head.bias"}
    own = dict(method.named_parameters())
    for name, value in fast.items():
        assert not torch.equal(value.detach(), own[name].detach()), f"{name} was not adapted"


def test_outer_loop_learns_everything_and_predict_changes_nothing():
    method = make(inner_steps=2)
    ep = synthetic_episode()
    loss, _ = method.loss(ep)
    loss.backward()
    ns_names = set(similarity_parameter_names(method.backbone))
    others = {n: p for n, p in method.backbone.named_parameters() if n not in ns_names}
    assert others  # kernels W and BN: meta-learned by the outer loop only
    for name, p in list(others.items()) + [(n, p) for n, p in method.backbone.named_parameters() if n in ns_names]:
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    method.eval()
    before = {k: v.clone() for k, v in method.state_dict().items()}
    logits = method.predict(ep.support, ep.support_labels, ep.query, ep.way)
    assert logits.shape == (9, 3) and not logits.requires_grad
    assert all(torch.equal(v, before[k]) for k, v in method.state_dict().items())


def test_needs_a_static_ns_backbone():
    for backbone in (tiny_cnn(), tiny_cnn(nsl="dynamic-dns"), tiny_mlp()):
        with pytest.raises(ConfigError, match="static"):
            MetaStaticNSN(backbone, IMAGE_SHAPE, 5, train_way=3)


def test_a_few_meta_steps_reduce_the_loss():
    assert_a_few_steps_reduce_the_loss(make(inner_steps=2, inner_lr=0.1))
