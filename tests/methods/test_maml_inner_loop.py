"""MAML: the inner loop works on fast weights only, and its meta-gradient is the MAML gradient."""

from __future__ import annotations

import pytest
import torch
from method_helpers import IMAGE_SHAPE, synthetic_episode, tiny_cnn, tiny_mlp
from torch import nn

from fewshot_nsl.core.errors import ConfigError
from fewshot_nsl.methods.maml import MAML, task_mode


def make(backbone, **options):
    return MAML(backbone, IMAGE_SHAPE, 5, MAML.Options(**options), train_way=3)


def snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def test_predict_leaves_parameters_buffers_and_modes_untouched():
    method = make(tiny_cnn(), test_inner_steps=3)
    method.eval()
    before = snapshot(method)
    ep = synthetic_episode()
    logits = method.predict(ep.support, ep.support_labels, ep.query, ep.way)
    assert logits.shape == (9, 3) and logits.grad_fn is None and not logits.requires_grad
    for key, value in method.state_dict().items():
        assert torch.equal(value, before[key]), key  # weights and BN running stats
    assert all(p.grad is None for p in method.parameters())
    assert not any(m.training for m in method.modules())
    bns = [m for m in method.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns and all(m.track_running_stats for m in bns)


def test_predict_adapts_and_works_under_no_grad():
    method = make(tiny_cnn(), test_inner_steps=5, inner_lr=0.5)
    method.eval()
    ep = synthetic_episode()
    with torch.no_grad():
        adapted = method.predict(ep.support, ep.support_labels, ep.query, ep.way)
    method.options.test_inner_steps = 0
    unadapted = method.predict(ep.support, ep.support_labels, ep.query, ep.way)
    assert not torch.allclose(adapted, unadapted)


def test_inner_loop_adapts_every_parameter_and_nothing_else():
    method = make(tiny_cnn(), inner_steps=2)
    ep = synthetic_episode()
    with task_mode(method):
        fast = method.adapt(ep.support, ep.support_labels, steps=2, create_graph=False)
    params = dict(method.named_parameters())
    assert set(fast) == set(params)
    for name, weight in fast.items():
        assert weight.shape == params[name].shape
    changed = [n for n in fast if not torch.equal(fast[n].detach(), params[n].detach())]
    assert "head.weight" in changed and any(n.startswith("backbone.") for n in changed)


def test_loss_leaves_the_module_parameters_untouched_until_the_optimiser_steps():
    method = make(tiny_cnn())
    before = snapshot(method)
    loss, _ = method.loss(synthetic_episode())
    loss.backward()
    for key, value in method.state_dict().items():
        assert torch.equal(value, before[key]), key


def _reference_gradients(method, ep, steps, second_order):
    """MAML's meta-gradient written with torch.func.grad: d/dw L_q(w - a grad L_s(w)) (composed ``steps`` times);
    first-order: the query gradient at the adapted weights."""
    params = {n: p.detach() for n, p in method.named_parameters()}
    lr = method.options.inner_lr

    def support_loss(p):
        return nn.functional.cross_entropy(method.logits(p, ep.support), ep.support_labels)

    def query_loss(p):
        return nn.functional.cross_entropy(method.logits(p, ep.query), ep.query_labels)

    def adapted(p):
        for _ in range(steps):
            g = torch.func.grad(support_loss)(p)
            if not second_order:
                g = {k: v.detach() for k, v in g.items()}
            p = {k: p[k] - lr * g[k] for k in p}
        return p

    if second_order:
        return torch.func.grad(lambda p: query_loss(adapted(p)))(params)
    return torch.func.grad(query_loss)(adapted(params))


@pytest.mark.parametrize("first_order", [False, True])
def test_meta_gradient_equals_the_maml_formula(first_order):
    """On a BN-free backbone the meta-gradient of loss() equals a torch.func reference, 2 inner steps."""
    method = make(tiny_mlp(), inner_steps=2, inner_lr=0.3, first_order=first_order).double()
    ep = synthetic_episode()
    ep = type(ep)(ep.support.double(), ep.support_labels, ep.query.double(), ep.query_labels, ep.way, ep.shot)
    loss, _ = method.loss(ep)
    loss.backward()
    reference = _reference_gradients(method, ep, steps=2, second_order=not first_order)
    for name, p in method.named_parameters():
        torch.testing.assert_close(p.grad, reference[name], rtol=1e-9, atol=1e-12)


def test_second_order_gradient_flows_and_differs_from_first_order():
    ep = synthetic_episode()
    grads = {}
    for first_order in (False, True):
        method = make(tiny_cnn(seed=3), inner_steps=2, inner_lr=0.1, first_order=first_order)
        loss, _ = method.loss(ep)
        loss.backward()
        grads[first_order] = method.backbone.blocks[0][0].weight.grad.clone()
    assert grads[False].abs().sum() > 0 and grads[True].abs().sum() > 0
    assert not torch.allclose(grads[False], grads[True], rtol=1e-3, atol=1e-6)


def test_a_way_other_than_the_head_width_is_a_config_error():
    method = make(tiny_cnn())
    ep = synthetic_episode(way=4)
    with pytest.raises(ConfigError, match="4-way"):
        method.loss(ep)
    with pytest.raises(ConfigError, match="task.way"):
        method.predict(ep.support, ep.support_labels, ep.query, 4)


def test_bad_inner_settings_are_config_errors():
    with pytest.raises(ConfigError, match="inner_lr"):
        make(tiny_cnn(), inner_lr=0.0)
    with pytest.raises(ConfigError, match="inner_steps"):
        make(tiny_cnn(), inner_steps=-1)
