"""static / dynamic: ProtoNet's head on an NS backbone of the right family, ConfigError otherwise."""

from __future__ import annotations

import pytest
import torch
from method_helpers import assert_a_few_steps_reduce_the_loss, IMAGE_SHAPE, synthetic_episode, tiny_cnn, tiny_mlp

from fewshot_nsl.core.errors import ConfigError
from fewshot_nsl.methods import get_method
from fewshot_nsl.methods.protonet import ProtoNet

FAMILIES = {"static": ("static-uns", "static-dns"), "dynamic": ("dynamic-dns", "dynamic-uns")}


@pytest.mark.parametrize("name", ["static", "dynamic"])
def test_accepts_its_family_and_scores_like_protonet(name):
    for nsl in FAMILIES[name]:
        backbone = tiny_cnn(nsl=nsl)
        method = get_method(name)(backbone, IMAGE_SHAPE, 5)
        method.eval()
        ep = synthetic_episode()
        with torch.no_grad():
            logits = method.predict(ep.support, ep.support_labels, ep.query, ep.way)
            reference = ProtoNet(backbone, IMAGE_SHAPE, 5).eval().predict(ep.support, ep.support_labels,
                                                                            ep.query, ep.way)
        torch.testing.assert_close(logits, reference)
        method.train()
        loss, _ = method(ep)
        loss.backward()
        assert torch.isfinite(loss)
        assert sum(float(p.grad.abs().sum()) for p in backbone.parameters() if p.grad is not None) > 0


@pytest.mark.parametrize("name", ["static", "dynamic"])
def test_rejects_other_backbones(name):
    other = "dynamic-dns" if name == "static" else "static-uns"
    for backbone in (tiny_cnn(), tiny_cnn(nsl=other), tiny_mlp()):
        with pytest.raises(ConfigError, match="model.nsl"):
            get_method(name)(backbone, IMAGE_SHAPE, 5)


@pytest.mark.parametrize("name,nsl", [("static", "static-uns"), ("static", "static-dns"), ("dynamic", "dynamic-dns"),
                                      ("dynamic", "dynamic-uns")])
def test_a_few_steps_reduce_the_loss(name, nsl):
    assert_a_few_steps_reduce_the_loss(get_method(name)(tiny_cnn(seed=2, nsl=nsl), IMAGE_SHAPE, 5))
