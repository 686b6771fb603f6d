"""Backbone registry and plug-in: built-ins, ``module:Class``, the entry-point group, and clear errors."""

import sys
import textwrap

import pytest
import torch

from fewshot_nsl import backbones
from fewshot_nsl.core.errors import ConfigError


def test_builtin_feature_sizes_at_84():
    assert backbones.build("cnn4").feature_dim((3, 84, 84)) == 1600
    assert backbones.build("cnn4").map_shape((3, 84, 84)) == (64, 5, 5)
    assert backbones.build("cnn9").feature_dim((3, 84, 84)) == 256
    assert backbones.build("cnn4", in_channels=1).feature_dim((1, 28, 28)) == 64


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ConfigError, match="unknown backbone 'cnn44'; did you mean 'cnn4'"):
        backbones.build("cnn44")


@pytest.fixture
def plugin_package(tmp_path, monkeypatch):
    """A user's package on sys.path, with a dist-info that declares an entry point."""
    pkg = tmp_path / "my_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "nets.py").write_text(textwrap.dedent("""
        import torch
        from torch import nn

        class TinyNet(nn.Module):
            def __init__(self, in_channels=3, width=8):
                super().__init__()
                self.conv = nn.Conv2d(in_channels, width, 3, padding=1)
                self.pool = nn.AdaptiveAvgPool2d(2)

            def forward(self, x):
                return self.pool(torch.relu(self.conv(x)))
    """))
    dist = tmp_path / "my_pkg-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-pkg\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[fewshot_nsl.backbones]\ntiny = my_pkg.nets:TinyNet\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "my_pkg.nets:TinyNet"
    for name in [m for m in sys.modules if m.startswith("my_pkg")]:
        del sys.modules[name]


def test_module_class_plugs_in_without_editing_the_package(plugin_package):
    net = backbones.build(plugin_package, in_channels=1)
    assert net.map_shape((1, 28, 28)) == (8, 2, 2)
    assert net.feature_dim((1, 28, 28)) == 32
    assert net(torch.zeros(3, 1, 28, 28)).shape == (3, 32)


def test_entry_point_group(plugin_package):
    assert "tiny" in backbones.available()
    net = backbones.build("tiny", width=4)
    assert net.feature_dim((3, 16, 16)) == 16


def test_plugin_cannot_take_ns_options(plugin_package):
    with pytest.raises(ConfigError, match="does not support nsl='static-uns'"):
        backbones.build(plugin_package, nsl="static-uns")


def test_bad_targets_are_named():
    with pytest.raises(ConfigError, match="cannot import module 'no_such_module_xyz'"):
        backbones.build("no_such_module_xyz:Net")
    with pytest.raises(ConfigError, match="has no attribute 'Nope'"):
        backbones.build("fewshot_nsl.backbones.cnn4:Nope")
