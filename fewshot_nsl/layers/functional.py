"""Functional forms of the neural-similarity (NS) convolution (NSL_SPEC §1, §2.1, §3.3).

Index convention (NSL_SPEC §1): the K = kh*kw taps are ordered row-major (k = i*kw + j). In a similarity
matrix ``M[k, q]`` the row ``k`` is the **kernel** tap and the column ``q`` the **input** tap, so

    y[b, o, p] = sum_c sum_{k, q} W[o, c, k] * M[k, q] * x[b, c, p + delta_q].

A diagonal similarity (DNS) is given as its diagonal, a vector ``m`` of K entries. Shapes accepted for ``m``:

=================  ===========================  ====================================
form               DNS                          UNS
=================  ===========================  ====================================
static (a layer)   (K,)                         (K, K)
dynamic            (B, K, H', W')               (B, K, K, H', W')  (``m[b, k, q, h, w]``)
=================  ===========================  ====================================

where (H', W') is the output size. The dynamic routes need stride 1.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F

from .unfold_route import ns_conv_unfold_dynamic, patches

__all__ = ["tap_offsets", "transform_kernel", "ns_conv_unfold", "ns_conv_shift"]


def tap_offsets(kernel_size: Tuple[int, int]) -> List[Tuple[int, int]]:
    """delta_q = (di, dj) of every tap q (row-major) from the kernel centre; kernel sizes must be odd."""
    kh, kw = kernel_size
    return [(i - kh // 2, j - kw // 2) for i in range(kh) for j in range(kw)]


def transform_kernel(weight: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """The folded kernel W' = M^T W of every (out, in) pair: W'[o, c, q] = sum_k W[o, c, k] M[k, q].

    Args:
        weight: (O, C, kh, kw) kernel W.
        m: (K,) diagonal (DNS) or (K, K) matrix (UNS), K = kh * kw.

    Returns:
        (O, C, kh, kw) kernel W' such that ``conv2d(x, W')`` is the static NS convolution.
    """
    flat = weight.reshape(weight.shape[0], weight.shape[1], -1)
    out = flat * m if m.dim() == 1 else flat @ m
    return out.reshape(weight.shape)


def _autocast_or_common_dtype(*tensors: torch.Tensor) -> torch.dtype:
    """The dtype a custom op computes in: autocast's when it is on for the device, else the promoted one."""
    device_type = tensors[0].device.type
    try:
        if torch.is_autocast_enabled(device_type):
            return torch.get_autocast_dtype(device_type)
    except TypeError:  # torch < 2.4: no per-device query
        pass
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    return dtype


def ns_conv_unfold(
    x: torch.Tensor, weight: torch.Tensor, m: torch.Tensor, padding: int, bias: Optional[torch.Tensor] = None
) -> torch.Tensor:
    """NS convolution by the unfold route (NSL_SPEC §3.3, route 1), stride 1.

    Gathers the patches U of x, applies M to the tap axis of every patch (U~ = M U), then multiplies by the
    (O x K*C) kernel. Dynamic M goes through the chunked autograd Function of :mod:`.unfold_route`; a static M
    (a reference for tests) through plain tensor ops.

    Args:
        x: (B, C, H, W) input.
        weight: (O, C, kh, kw) kernel W.
        m: static (K,) / (K, K) or dynamic (B, K, H', W') / (B, K, K, H', W') similarity (see module doc).
        padding: zero padding on every side.
        bias: optional (O,) bias.

    Returns:
        (B, O, H', W') output, H' = H + 2 * padding - kh + 1 (channels-last memory layout).
    """
    b, c, _, _ = x.shape
    o, _, kh, kw = weight.shape
    if m.dim() in (4, 5):
        dtype = _autocast_or_common_dtype(x, weight, m)
        y = ns_conv_unfold_dynamic(x.to(dtype), weight.to(dtype), m.to(dtype), padding)
    else:
        p = patches(x, kh, kw, padding)  # (B, H', W', K, C)
        mixed = p * m[:, None] if m.dim() == 1 else m @ p
        _, h_out, w_out, taps, _ = mixed.shape
        y = mixed.reshape(-1, taps * c) @ weight.permute(0, 2, 3, 1).reshape(o, taps * c).t()
        y = y.view(b, h_out, w_out, o).permute(0, 3, 1, 2)
    return y if bias is None else y + bias[:, None, None]


def ns_conv_shift(
    x: torch.Tensor, weight: torch.Tensor, m: torch.Tensor, padding: int, bias: Optional[torch.Tensor] = None
) -> torch.Tensor:
    """NS convolution by the position-decomposed route (NSL_SPEC §3.3, route 2), stride 1, 'same' padding.

    The K partial responses Z[b, k, o, p] = sum_c W[o, c, k] x[b, c, p] come from one 1x1 conv to K*O
    channels;
    then y[b, o, p] = sum_{k, q} M_p[k, q] Z[b, k, o, p + delta_q] (zero outside the image).

    Args:
        x: (B, C, H, W) input.
        weight: (O, C, kh, kw) kernel W with odd kh, kw.
        m: similarity of any form of the module doc; the output size equals the input size.
        padding: must be (kh // 2) (``same``); kept for the signature shared with :func:`ns_conv_unfold`.
        bias: optional (O,) bias.

    Returns:
        (B, O, H, W) output.
    """
    b, c, h, w = x.shape
    o, _, kh, kw = weight.shape
    if kh % 2 == 0 or kw % 2 == 0 or padding != kh // 2 or kh != kw:
        raise ValueError(f"the shift route needs an odd square kernel with 'same' padding, got {kh}x{kw}, "
                         f"padding {padding}")
    taps = kh * kw
    # the 1x1 conv of the zero-padded input is the zero-padded Z (no bias), channel k*O + o
    xp = F.pad(x, (padding, padding, padding, padding))
    zp = F.conv2d(xp, weight.permute(2, 3, 0, 1).reshape(taps * o, c, 1, 1))
    zp = zp.view(b, taps, o, h + 2 * padding, w + 2 * padding)
    diagonal = m.dim() in (1, 4)
    if m.dim() <= 2:  # static: broadcast over batch and positions
        m = m.reshape(1, *m.shape, 1, 1)
    y = None
    for q, (di, dj) in enumerate(tap_offsets((kh, kw))):
        rows, cols = slice(padding + di, padding + di + h), slice(padding + dj, padding + dj + w)
        if diagonal:  # only k = q contributes
            term = m[:, q, None] * zp[:, q, :, rows, cols]
        else:
            term = (m[:, :, q, None] * zp[:, :, :, rows, cols]).sum(1)
        y = term if y is None else y + term
    if bias is not None:
        y = y + bias[:, None, None]
    return y
