"""Numeric precision of the compute (issue 12): ``auto | fp32 | bf16 | fp16``.

Only the *compute* changes: :func:`autocast` runs the convolutions and matmuls of a forward pass in the reduced
dtype while weights, optimiser state, losses and BN statistics stay float32 (autocast's own rules keep
reductions such as ``cross_entropy`` and ``batch_norm`` statistics in float32). ``auto`` picks bf16 only where
the hardware runs it natively, because emulated bf16 is slower than float32:

- CPU: AVX512-BF16 or AMX-BF16 (the ``avx512_bf16`` / ``amx_bf16`` flags of ``/proc/cpuinfo``, or a torch CPU
  capability naming AMX);
- CUDA: ``torch.cuda.is_bf16_supported()`` (Ampere and later);
- anything else: fp32.

fp16 needs a gradient scaler (its exponent range underflows small gradients); bf16 has float32's range and
does not (:func:`needs_grad_scaler`).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import ContextManager, FrozenSet, Optional, Union

import torch

from ..core.errors import ConfigError

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
#: the dtype autocast computes in for every reduced precision
AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
#: /proc/cpuinfo flags of native bf16 arithmetic
BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})

DeviceLike = Union[str, torch.device]


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> FrozenSet[str]:
    """The feature flags of the first CPU in ``cpuinfo`` (empty where the file does not exist: not Linux)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def cpu_has_native_bf16() -> bool:
    """True when this CPU computes bf16 dot products natively (AVX512-BF16 or AMX)."""
    capability = str(torch.backends.cpu.get_cpu_capability()).upper()
    if "AMX" in capability or "BF16" in capability:
        return True
    return bool(cpu_flags() & BF16_CPU_FLAGS)


def _device_type(device: DeviceLike) -> str:
    return torch.device(device).type


def resolve_precision(name: str, device: DeviceLike) -> str:
    """``auto`` -> ``bf16`` where ``device`` runs it natively, else ``fp32``; other names are checked and
    returned unchanged (an explicit ``bf16``/``fp16`` is honoured even where it is emulated)."""
    if name not in PRECISIONS:
        raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}; got {name!r}")
    if name != "auto":
        return name
    kind = _device_type(device)
    if kind == "cuda":
        return "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "fp32"
    if kind == "cpu":
        return "bf16" if cpu_has_native_bf16() else "fp32"
    return "fp32"


def autocast(precision: str, device: DeviceLike) -> ContextManager:
    """The context a forward pass runs in: ``torch.autocast`` for bf16/fp16, a no-op for fp32.

    ``precision`` must already be resolved (not ``auto``), so that what runs is what was recorded."""
    if precision == "fp32":
        return contextlib.nullcontext()
    if precision not in AUTOCAST_DTYPES:
        raise ConfigError(f"autocast needs a resolved precision (fp32, bf16, fp16); got {precision!r}")
    return torch.autocast(_device_type(device), dtype=AUTOCAST_DTYPES[precision])


def slow_training_warning(precision: str, device: DeviceLike) -> Optional[str]:
    """A warning for a precision that trains far slower than fp32 on ``device`` (None where it does not).

    fp16 on a CPU: PyTorch's CPU build has no fast fp16 convolution backward (oneDNN's measured 205-440x its
    fp32 one on an Intel Xeon with AVX512-FP16, RESULTS.md "fp16 on a CPU"), so an fp16 run is honoured but
    told to use bf16 (native on CPUs with AVX512-BF16 or AMX) or fp32. bf16 on a CPU without native bf16 is
    honoured and told likewise to use fp32."""
    if precision == "fp16" and _device_type(device) == "cpu":
        return ("train.precision=fp16 on a CPU trains hundreds of times slower than fp32 (no fast fp16 convolution "
                "backward in PyTorch's CPU build); use bf16 (auto picks it where the CPU runs it natively) or fp32")
    if precision == "bf16" and _device_type(device) == "cpu" and not cpu_has_native_bf16():
        # an AVX2-only CPU (e.g. AMD EPYC Milan): oneDNN has no bf16 convolution there, PyTorch falls back to its
        # reference im2col kernel; a 3x3 conv measured 6-25x its fp32 forward and 6-14x its backward
        # (RESULTS.md, "bf16 on a CPU without native bf16")
        return ("train.precision=bf16 on this CPU (no AVX512-BF16 or AMX) is emulated and trains several to tens of "
                "times slower than fp32; use fp32 (auto picks it here)")
    return None


def needs_grad_scaler(precision: str) -> bool:
    """Only fp16 needs loss scaling (its 5-bit exponent underflows small gradients; bf16 has fp32's range)."""
    return precision == "fp16"


def grad_scaler(precision: str, device: DeviceLike) -> torch.amp.GradScaler:
    """A GradScaler that is enabled exactly when :func:`needs_grad_scaler` (a disabled one is a pass-through,
    so the training loop calls it the same way in every precision)."""
    return torch.amp.GradScaler(_device_type(device), enabled=needs_grad_scaler(precision))
