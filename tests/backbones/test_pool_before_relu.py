"""The built-in backbones pool before their ReLU (cnn4.conv_block says why): the same outputs and gradients, bit
for bit, as the textbook [conv, BN, ReLU, maxpool] order, in every precision the toolkit trains in."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from fewshot_nsl import backbones
from fewshot_nsl.runtime.precision import autocast


def textbook_order(net: nn.Module) -> nn.Module:
    """A copy of ``net`` whose every [.., MaxPool2d, ReLU] pair inside a Sequential is back to [.., ReLU, MaxPool2d]."""
    net = copy.deepcopy(net)
    swapped = 0
    for module in net.modules():
        if not isinstance(module, nn.Sequential):
            continue
        for i in range(len(module) - 1):
            if isinstance(module[i], nn.MaxPool2d) and isinstance(module[i + 1], nn.ReLU):
                module[i], module[i + 1] = module[i + 1], module[i]
                swapped += 1
    assert swapped, "no pool-before-ReLU pair found: the test would compare a network with itself"
    return net


CASES = [("cnn4", "none", 42), ("cnn4", "static-uns", 42), ("cnn4", "dynamic-dns", 28), ("cnn4-np", "none", 42),
         ("cnn9", "none", 42), ("cnn9", "dynamic-dns", 42), ("cifar9", "none", 33), ("cifar9", "dynamic-dns", 32)]


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize("name,nsl,size", CASES)
def test_outputs_and_gradients_equal_the_textbook_order_bit_for_bit(name: str, nsl: str, size: int,
                                                                    precision: str) -> None:
    torch.manual_seed(0)
    net = backbones.build(name, nsl=nsl).train()
    reference = textbook_order(net)
    x = torch.randn(6, 3, size, size) * 40 if name == "cifar9" else torch.randn(6, 3, size, size)
    results = []
    for model in (net, reference):
        inputs = x.clone().requires_grad_(True)
        with autocast(precision, "cpu"):
            out = model(inputs)
        (out.float() * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
        grads = [p.grad for p in model.parameters()]
        buffers = [b.clone() for b in model.buffers()]  # BN running statistics
        results.append((out.detach(), inputs.grad, grads, buffers))
    (out, gx, grads, buffers), (ref_out, ref_gx, ref_grads, ref_buffers) = results
    assert torch.equal(out, ref_out)
    assert torch.equal(gx, ref_gx)
    assert all(torch.equal(a, b) for a, b in zip(grads, ref_grads))
    assert all(torch.equal(a, b) for a, b in zip(buffers, ref_buffers))
    # the parameter names are unchanged, so checkpoints of either order load into the other
    assert list(net.state_dict()) == list(reference.state_dict())
