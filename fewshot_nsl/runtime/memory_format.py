"""Channels-last (NHWC) memory format for a method's convolutions.

On CPU, oneDNN convolutions, batch norm and above all max pooling run much faster on channels-last tensors
(CNN-4 ProtoNet training step: see benchmarks/RESULTS.md). The maths is unchanged: tensors keep their logical
(N, C, H, W) shape and only their strides differ, so results match NCHW up to float summation order.

:func:`use_channels_last` converts the method's 4-d parameters and buffers and makes its backbone convert its
input, so every layer (built-in or user-supplied, including the folded kernels of static NS layers) sees
channels-last activations. The hook also runs under ``torch.func.functional_call`` (MAML's fast weights).
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

import torch
from torch import nn

_HOOKED = "_fewshot_nsl_channels_last"


def wants_channels_last(setting: Optional[bool], device: torch.device) -> bool:
    """``train.channels_last``: None (auto) = on for CPU, off elsewhere (not measured on GPUs yet)."""
    return device.type == "cpu" if setting is None else bool(setting)


def _input_to_channels_last(module: nn.Module, args: Tuple[Any, ...]) -> Tuple[Any, ...]:
    if args and isinstance(args[0], torch.Tensor) and args[0].dim() == 4:
        return (args[0].contiguous(memory_format=torch.channels_last), *args[1:])
    return args


def use_channels_last(method: nn.Module) -> nn.Module:
    """Convert ``method`` (in place) to channels-last; its ``backbone`` (when it has one) converts its (B, C, H, W)
    input. Idempotent; returns ``method``."""
    method.to(memory_format=torch.channels_last)
    backbone = getattr(method, "backbone", None)
    target = backbone if isinstance(backbone, nn.Module) else method
    if not getattr(target, _HOOKED, False):
        target.register_forward_pre_hook(_input_to_channels_last)
        setattr(target, _HOOKED, True)
    return method


def place_method(method: nn.Module, device: torch.device, channels_last: Optional[bool]) -> nn.Module:
    """Move ``method`` to ``device`` and, when :func:`wants_channels_last` says so for the ``train.channels_last``
    setting, convert it with :func:`use_channels_last`. Returns ``method``."""
    method.to(device)
    return use_channels_last(method) if wants_channels_last(channels_last, device) else method
