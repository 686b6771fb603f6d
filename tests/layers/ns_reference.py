"""The NS convolution by its definition, for the layer tests (imported by name: keep this file name unique)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

D = torch.float64


def rand(*shape: int, seed: int = 0) -> torch.Tensor:
    """Seeded float64 N(0, 1) tensor."""
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=D)


def definition(x: torch.Tensor, weight: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """y[b,o,p] = sum_c sum_{k,q} W[o,c,k] M[k,q] x[b,c,p+delta_q] by explicit loops over the taps, 'same'
    padding; M static (K, K) or per sample and position (B, K, K, H, W)."""
    b, c, h, w = x.shape
    o, _, kh, kw = weight.shape
    ph, pw = kh // 2, kw // 2
    xp = F.pad(x, (pw, pw, ph, ph))
    y = torch.zeros(b, o, h, w, dtype=x.dtype)
    for k in range(kh * kw):
        w_k = weight[:, :, k // kw, k % kw]
        for q in range(kh * kw):
            di, dj = divmod(q, kw)
            coefficient = m[k, q] if m.dim() == 2 else m[:, k, q, None]
            y += coefficient * torch.einsum("oc,bchw->bohw", w_k, xp[:, :, di:di + h, dj:dj + w])
    return y
