"""The CIFAR network of NSL_SPEC §6: its parameter counts, shapes, eps, plain root and bias-free convs."""

import pytest
import torch
from torch import nn

from fewshot_nsl import backbones
from fewshot_nsl.layers import NSConv2d

#: exact counts for 10 classes; NSL_SPEC §6 gives plain 0.511 M, static DNS +81, static UNS +729,
#: dynamic DNS 0.891 M, dynamic UNS 2.015 M
PLAIN = 864 + 64 + 27648 + 192 + 92160 + 384 + 368640 + 768 + 20480
COUNTS = {"none": PLAIN, "static-dns": PLAIN + 81, "static-uns": PLAIN + 729, "dynamic-dns": 890946,
          "dynamic-uns": 2014560}


@pytest.mark.parametrize("nsl", list(COUNTS))
def test_parameter_counts_are_the_spec_s(nsl):
    net = backbones.build("cifar9", num_classes=10, nsl=nsl)
    count = sum(p.numel() for p in net.parameters())
    assert count == COUNTS[nsl]
    spec_millions = {"none": 0.511, "dynamic-dns": 0.891, "dynamic-uns": 2.015}
    if nsl in spec_millions:
        assert round(count / 1e6, 3) == spec_millions[nsl]


def test_plain_count_is_511200():
    assert PLAIN == 511200


@pytest.mark.parametrize("nsl", ["none", "static-uns", "dynamic-dns"])
def test_architecture(nsl):
    torch.manual_seed(0)
    net = backbones.build("cifar9", num_classes=100, nsl=nsl)
    x = torch.rand(2, 3, 32, 32) * 255
    assert net(x).shape == (2, 100)
    assert net.forward_map(x).shape == (2, 100, 1, 1)
    assert type(net.root[0]) is nn.Conv2d  # the root is never NS
    ns_layers = [m for m in net.stages if isinstance(m, NSConv2d)]
    assert len(ns_layers) == (9 if nsl != "none" else 0)
    convs = [m for m in net.modules() if isinstance(m, (nn.Conv2d, NSConv2d))]
    assert all(getattr(m, "bias", None) is None for m in convs)
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    stage_bns = [m for m in [*net.root, *net.stages] if isinstance(m, nn.BatchNorm2d)]
    assert len(stage_bns) == 10 and all(m.eps == 1e-3 for m in bns)
    widths = [m.out_channels for m in net.stages if isinstance(m, (nn.Conv2d, NSConv2d))]
    assert widths == [32] * 3 + [64] * 3 + [128] * 3
    assert net.score.kernel_size == (4, 4) and net.score.padding == (0, 0)


def test_feature_extractor_without_classes():
    net = backbones.build("cifar9", nsl="static-dns")
    assert net.score is None
    assert net.map_shape((3, 32, 32)) == (128, 4, 4) and net.feature_dim((3, 32, 32)) == 2048


def test_every_ns_option_reaches_the_stage_convs():
    net = backbones.build("cifar9", num_classes=10, nsl="dynamic-dns", param="shared", learn_shape=True,
                          predictor_gamma=0.5)
    layers = [m for m in net.modules() if isinstance(m, NSConv2d)]
    assert len(layers) == 9 and all(m.gate is not None and m.dynamic for m in layers)
    assert net.convs.shared is not None
    assert all(float(m.predictor.norm2.weight[0].detach()) == 0.5 for m in layers)
    released = backbones.build("cifar9", nsl="static-dns", dns_init="released")
    m = next(m for m in released.modules() if isinstance(m, NSConv2d))
    assert m.M.tolist() == [1, 0, 0, 0, 1, 0, 0, 0, 1]


def test_models_command_lists_the_spec_counts(capsys):
    from fewshot_nsl.cli.main import main

    assert main(["models", "--backbones", "cifar9"]) == 0
    rows = {(r[1], r[2]): r[3] for r in (line.split() for line in capsys.readouterr().out.splitlines()[2:])
            if r and r[0] == "cifar9"}
    assert rows[("none", "-")] == f"{COUNTS['none']:,d}" and rows[("dynamic-uns", "disjoint")] == "2,014,560"
    assert rows[("static-dns", "-")] == "511,281" and rows[("dynamic-dns", "disjoint")] == "890,946"
