"""Channels-last: the same numbers as NCHW, every conv sees NHWC activations, MAML's fast weights included."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "methods"))
from method_helpers import IMAGE_SHAPE, synthetic_episode, tiny_cnn  # noqa: E402

from fewshot_nsl.methods.maml import MAML  # noqa: E402
from fewshot_nsl.methods.protonet import ProtoNet  # noqa: E402
from fewshot_nsl.runtime.memory_format import use_channels_last, wants_channels_last  # noqa: E402


def _conv_inputs_channels_last(method: nn.Module, run) -> list:
    seen = []
    hooks = [m.register_forward_pre_hook(lambda mod, args: seen.append(
        args[0].is_contiguous(memory_format=torch.channels_last))) for m in method.modules()
        if isinstance(m, nn.Conv2d) or type(m).__name__ == "NSConv2d"]
    run()
    for h in hooks:
        h.remove()
    return seen


@pytest.mark.parametrize("nsl", ["none", "static-uns", "dynamic-dns"])
def test_protonet_loss_and_gradients_match_nchw(nsl: str) -> None:
    reference = ProtoNet(tiny_cnn(nsl=nsl), IMAGE_SHAPE, 5)
    converted = use_channels_last(copy.deepcopy(reference))
    episode = synthetic_episode()
    losses = []
    for method in (reference, converted):
        loss, _ = method.loss(episode)
        method.zero_grad()
        loss.backward()
        losses.append(loss.detach())
    torch.testing.assert_close(losses[0], losses[1], rtol=1e-5, atol=1e-6)
    for (name, a), b in zip(reference.named_parameters(), converted.parameters()):
        atol = 2e-5 * max(1.0, float(a.grad.abs().max()))  # float32 summation-order noise
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-4, atol=atol, msg=name)
    seen = _conv_inputs_channels_last(converted, lambda: converted.embed(episode.support))
    assert seen and all(seen)


def test_weights_are_channels_last_and_the_hook_is_added_once() -> None:
    method = use_channels_last(use_channels_last(ProtoNet(tiny_cnn(), IMAGE_SHAPE, 5)))
    convs = [m for m in method.modules() if isinstance(m, nn.Conv2d)]
    assert all(c.weight.is_contiguous(memory_format=torch.channels_last) for c in convs)
    assert len(method.backbone._forward_pre_hooks) == 1


def test_maml_fast_weights_see_channels_last_inputs() -> None:
    reference = MAML(tiny_cnn(), IMAGE_SHAPE, 5, MAML.Options(inner_steps=2), train_way=3)
    converted = use_channels_last(copy.deepcopy(reference))
    episode = synthetic_episode()
    out = [m.predict(episode.support, episode.support_labels, episode.query, episode.way)
           for m in (reference, converted)]
    torch.testing.assert_close(out[0], out[1], rtol=1e-4, atol=1e-5)


def test_auto_setting_is_on_for_cpu_only() -> None:
    assert wants_channels_last(None, torch.device("cpu"))
    assert not wants_channels_last(None, torch.device("cuda"))
    assert wants_channels_last(True, torch.device("cuda"))
    assert not wants_channels_last(False, torch.device("cpu"))


def test_folding_a_channels_last_static_nsn_keeps_the_layout_and_the_output() -> None:
    from fewshot_nsl.layers import fold_static

    net = use_channels_last(ProtoNet(tiny_cnn(nsl="static-uns"), IMAGE_SHAPE, 5)).eval()
    folded = fold_static(net)
    convs = [m for m in folded.modules() if isinstance(m, nn.Conv2d)]
    assert convs and all(c.weight.is_contiguous(memory_format=torch.channels_last) for c in convs)
    images = synthetic_episode().query
    with torch.no_grad():
        torch.testing.assert_close(folded.embed(images), net.embed(images), rtol=1e-4, atol=1e-5)
