"""Precision resolution and the autocast context (issue 12)."""

import contextlib

import pytest
import torch
import torch.nn.functional as F

from fewshot_nsl.core.errors import ConfigError
from fewshot_nsl.runtime import precision as P


@pytest.fixture
def cpu_caps(monkeypatch):
    """Set the CPU capability string and flags that the resolver sees."""
    def set_caps(capability: str, flags=()):
        monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: capability)
        monkeypatch.setattr(P, "cpu_flags", lambda *a: frozenset(flags))
    return set_caps


@pytest.mark.parametrize("capability, flags, expected", [
    ("AVX512", {"avx512f", "avx512_bf16"}, "bf16"),
    ("AVX512", {"avx512f", "amx_bf16", "amx_tile"}, "bf16"),
    ("AMX", (), "bf16"),
    ("AVX512", {"avx512f"}, "fp32"),
    ("AVX2", {"avx2"}, "fp32"),
    ("NO AVX", (), "fp32"),
])
def test_auto_on_cpu_follows_native_bf16(cpu_caps, capability, flags, expected):
    cpu_caps(capability, flags)
    assert P.resolve_precision("auto", "cpu") == expected
    assert P.resolve_precision("auto", torch.device("cpu")) == expected


@pytest.mark.parametrize("bf16, expected", [(True, "bf16"), (False, "fp32")])
def test_auto_on_cuda_follows_is_bf16_supported(monkeypatch, bf16, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
    assert P.resolve_precision("auto", "cuda:0") == expected


@pytest.mark.parametrize("name", ["fp32", "bf16", "fp16"])
def test_explicit_names_are_kept(cpu_caps, name):
    cpu_caps("AVX2", {"avx2"})  # even without native bf16: what was asked for runs
    assert P.resolve_precision(name, "cpu") == name


def test_bad_name_is_one_line_config_error():
    with pytest.raises(ConfigError, match="'fp8'") as info:
        P.resolve_precision("fp8", "cpu")
    assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="'auto'"):
        P.autocast("auto", "cpu")


def test_cpu_flags_reads_the_first_flags_line(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx512f avx512_bf16\n\nprocessor\t: 1\nflags\t: fpu\n")
    assert P.cpu_flags(info) == {"fpu", "avx512f", "avx512_bf16"}
    assert P.cpu_flags(tmp_path / "missing") == frozenset()


def test_fp32_is_a_no_op():
    ctx = P.autocast("fp32", "cpu")
    assert isinstance(ctx, contextlib.nullcontext)
    x, w = torch.randn(2, 3, 8, 8), torch.randn(4, 3, 3, 3)
    with ctx:
        y = F.conv2d(x, w, padding=1)
    assert y.dtype == torch.float32
    assert torch.equal(y, F.conv2d(x, w, padding=1))


def test_bf16_autocast_gives_bf16_conv_on_cpu():
    x, w = torch.randn(2, 3, 8, 8), torch.randn(4, 3, 3, 3, requires_grad=True)
    with P.autocast("bf16", "cpu"):
        y = F.conv2d(x, w, padding=1)
    assert y.dtype == torch.bfloat16
    y.float().sum().backward()
    assert w.grad.dtype == torch.float32  # weights and their gradients stay fp32
    ref = F.conv2d(x, w.detach(), padding=1)
    assert torch.allclose(y.float(), ref, rtol=0.05, atol=0.1)


def test_grad_scaler_only_for_fp16():
    assert [P.needs_grad_scaler(p) for p in ("fp32", "bf16", "fp16")] == [False, False, True]
    assert not P.grad_scaler("bf16", "cpu").is_enabled()
    assert P.grad_scaler("fp16", "cpu").is_enabled()


def test_fp16_on_a_cpu_is_warned_slow_and_nothing_else_is(monkeypatch):
    monkeypatch.setattr(P, "cpu_has_native_bf16", lambda: True)
    assert "fp16" in P.slow_training_warning("fp16", "cpu") and "bf16" in P.slow_training_warning("fp16", "cpu")
    assert [P.slow_training_warning(p, d) for p, d in [("fp32", "cpu"), ("bf16", "cpu"), ("fp16", "cuda")]] == [
        None, None, None]


def test_bf16_is_warned_slow_only_on_a_cpu_that_emulates_it(monkeypatch):
    monkeypatch.setattr(P, "cpu_has_native_bf16", lambda: False)
    line = P.slow_training_warning("bf16", "cpu")
    assert "bf16" in line and "fp32" in line and "\n" not in line
    assert [P.slow_training_warning(p, d) for p, d in [("fp32", "cpu"), ("bf16", "cuda")]] == [None, None]
    assert P.resolve_precision("auto", "cpu") == "fp32"  # auto never picks the emulated one


def test_protonet_logits_are_fp32_under_bf16_autocast_and_close_to_fp32():
    from fewshot_nsl.methods.protonet import ProtoNet

    torch.manual_seed(0)
    support, query = torch.randn(10, 64) + 3.0, torch.randn(6, 64) + 3.0  # large |x|: cancellation matters
    labels = torch.arange(5).repeat(2)
    head = ProtoNet.predict_from_features
    reference = head(None, support, labels, query, 5)
    with P.autocast("bf16", "cpu"):
        got = head(None, support.bfloat16(), labels, query.bfloat16(), 5)
    assert got.dtype == torch.float32  # distances summed in fp32, not bf16
    exact_inputs = head(None, support.bfloat16().float(), labels, query.bfloat16().float(), 5)
    assert torch.allclose(got, exact_inputs, rtol=1e-5, atol=1e-4)  # only the inputs' rounding is left
    assert torch.allclose(got, reference, rtol=0.02, atol=0.5)


def test_predictor_patch_norm_is_fp32_under_bf16_autocast():
    from fewshot_nsl.layers.predictors import NormalizedConv2d

    torch.manual_seed(0)
    conv, x = NormalizedConv2d(8, 4), torch.randn(2, 8, 6, 6)
    reference = conv(x)
    with P.autocast("bf16", "cpu"):
        got = conv(x)
    assert got.dtype == torch.bfloat16  # the output keeps the conv's autocast dtype ...
    assert torch.allclose(got.float(), reference, rtol=0.03, atol=0.03)  # ... the normalisation is fp32


def test_old_saved_configs_read_as_the_precision_they_ran(tmp_path):
    from fewshot_nsl.runtime.config import resolve_config, save_config
    from fewshot_nsl.runtime.schema import upgrade_saved
    from fewshot_nsl.runtime.settings_diff import changed_settings, saved_config

    path = tmp_path / "config.yaml"
    save_config(resolve_config("protonet", overrides=["train.precision=fp32"]), path)
    old = path.read_text().replace("  precision: fp32\n", "")  # as written before train.precision existed
    assert "amp: false" in old and "precision" not in old
    path.write_text(old)
    assert saved_config(path).train.precision == "fp32"
    assert upgrade_saved({"train": {"amp": True}})["train"]["precision"] == "fp16"
    assert changed_settings(path, resolve_config("protonet", overrides=["train.precision=fp32"])) == []
    assert changed_settings(path, resolve_config("protonet", overrides=["train.precision=auto"])) == []
    assert [k for k, *_ in changed_settings(path, resolve_config("protonet", overrides=["train.precision=bf16"]))] \
        == ["train.precision"]
