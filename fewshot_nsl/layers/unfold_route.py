"""The unfold route of the dynamic NS convolution as one memory-lean autograd Function (NSL_SPEC §3.3).

The patches U of the input and the mixed patches U~ = M U are K times the input. Building them for the
whole batch makes the layer memory-bound (and CPU ``im2col`` is slow), so :class:`UnfoldNSConv` works on a
few samples at a time, saves only x, W and M for the backward pass and recomputes each chunk's patches
there: the big intermediates stay in cache and are never kept for backward. Its backward is made of
differentiable operations, so double backward (second-order MAML) works too.

Layouts (channels last): patches (n, H', W', K, C); M given as (B, H', W', K) for DNS and (B, H', W', K, K)
with ``[b, h, w, k, q]`` for UNS; the kernel is used as (O, K*C) with column k*C + c.
"""

from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn.functional as F

#: elements of one chunk's patch tensor on CPU (16 MiB in float32: within L3). Smaller chunks are a little
#: faster on an idle machine but multiply the number of ops, which is ruinous when the cores are shared.
CHUNK_ELEMENTS = {"cpu": 1 << 22}
CHUNK_ELEMENTS_OTHER = 1 << 28


def patches(x: torch.Tensor, kh: int, kw: int, padding: int) -> torch.Tensor:
    """(n, C, H, W) -> (n, H', W', K, C) with [.., h, w, q, c] = x[c, (h, w) + delta_q] (zero padding)."""
    n, c, h, w = x.shape
    h_out, w_out = h + 2 * padding - kh + 1, w + 2 * padding - kw + 1
    xp = F.pad(x.permute(0, 2, 3, 1), (0, 0, padding, padding, padding, padding))
    windows = xp.unfold(1, kh, 1).unfold(2, kw, 1)  # a view (n, H', W', C, kh, kw)
    return windows.permute(0, 1, 2, 4, 5, 3).reshape(n, h_out, w_out, kh * kw, c)


def mix(p: torch.Tensor, m: torch.Tensor, inplace: bool = False) -> torch.Tensor:
    """U~[.., k, c] = sum_q M[.., k, q] U[.., q, c] for (n, H', W', K, C) patches and channels-last M.

    ``inplace`` (DNS only) overwrites ``p``, a fresh buffer the caller no longer needs: the same products
    without allocating (and first-touching) another K-times-the-input buffer per chunk."""
    if m.dim() == 4:
        return p.mul_(m[..., None]) if inplace else p * m[..., None]
    n, h, w, k, c = p.shape
    return torch.bmm(m.reshape(n * h * w, k, k), p.reshape(n * h * w, k, c)).view(n, h, w, k, c)


def fold_patches(grad: torch.Tensor, h: int, w: int, padding: int, kw: int) -> torch.Tensor:
    """Adjoint of :func:`patches`: (n, H', W', K, C) -> (n, C, H, W), summing every patch entry back."""
    n, h_out, w_out, k, c = grad.shape
    out = grad.new_zeros(n, h + 2 * padding, w + 2 * padding, c)
    for q in range(k):
        i, j = divmod(q, kw)
        out[:, i:i + h_out, j:j + w_out] += grad[:, :, :, q]
    return out[:, padding:padding + h, padding:padding + w].permute(0, 3, 1, 2)


def chunk_size(x: torch.Tensor, per_sample: int) -> int:
    """Samples per chunk for a patch tensor of ``per_sample`` elements per sample."""
    budget = CHUNK_ELEMENTS.get(x.device.type, CHUNK_ELEMENTS_OTHER)
    return max(1, budget // max(per_sample, 1))


class UnfoldNSConv(torch.autograd.Function):
    """y = W_flat . (M U(x)), chunked over the batch; returns (B, O, H', W') (channels-last memory)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, m: torch.Tensor, padding: int) -> torch.Tensor:
        b, c, _, _ = x.shape
        o, _, kh, kw = weight.shape
        _, h_out, w_out = m.shape[:3]
        wmat_t = weight.permute(0, 2, 3, 1).reshape(o, kh * kw * c).t()
        out = x.new_empty(b, h_out, w_out, o)
        step = chunk_size(x, h_out * w_out * kh * kw * c)
        for i in range(0, b, step):
            # the patch copy is a fresh buffer whenever K > 1 (the windows overlap): mix it in place
            mixed = mix(patches(x[i:i + step], kh, kw, padding), m[i:i + step], inplace=kh * kw > 1)
            torch.mm(mixed.reshape(-1, kh * kw * c), wmat_t, out=out[i:i + step].view(-1, o))
        ctx.save_for_backward(x, weight, m)
        ctx.padding, ctx.step = padding, step
        return out.permute(0, 3, 1, 2)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> Tuple[Optional[torch.Tensor], ...]:
        x, weight, m = ctx.saved_tensors
        need_x, need_w, need_m = ctx.needs_input_grad[:3]
        b, c, h, w = x.shape
        o, _, kh, kw = weight.shape
        k = kh * kw
        wmat = weight.permute(0, 2, 3, 1).reshape(o, k * c)
        grad_l = grad.permute(0, 2, 3, 1)
        # in place only without create_graph: a double backward needs the intermediates unmodified
        inplace = not torch.is_grad_enabled()
        gx, gm, gw = [], [], None
        for i in range(0, b, ctx.step):
            p = patches(x[i:i + ctx.step], kh, kw, ctx.padding)
            mc = m[i:i + ctx.step]
            n, h_out, w_out = p.shape[:3]
            g = grad_l[i:i + ctx.step].reshape(-1, o)
            if need_w:
                # p itself is still needed below (grad of M) unless only W needs a gradient
                mixed = mix(p, mc, inplace=inplace and k > 1 and not (need_x or need_m))
                part = g.t() @ mixed.reshape(-1, k * c)
                gw = part if gw is None else gw + part
            if not (need_x or need_m):
                continue
            g_mixed = (g @ wmat).view(n, h_out, w_out, k, c)
            if mc.dim() == 4:  # DNS
                if need_m:
                    gm.append((g_mixed * p).sum(-1))
                g_p = mix(g_mixed, mc, inplace=inplace) if need_x else None
            else:  # UNS, per position: U~ = M U
                rows = n * h_out * w_out
                if need_m:
                    gm.append(torch.bmm(g_mixed.reshape(rows, k, c), p.reshape(rows, k, c).transpose(1, 2))
                              .view(n, h_out, w_out, k, k))
                g_p = (torch.bmm(mc.reshape(rows, k, k).transpose(1, 2), g_mixed.reshape(rows, k, c))
                       .view(n, h_out, w_out, k, c) if need_x else None)
            if need_x:
                gx.append(fold_patches(g_p, h, w, ctx.padding, kw))
        grad_x = torch.cat(gx) if need_x else None
        grad_w = gw.view(o, kh, kw, c).permute(0, 3, 1, 2) if need_w else None
        grad_m = torch.cat(gm) if need_m else None
        return grad_x, grad_w, grad_m, None


def ns_conv_unfold_dynamic(x: torch.Tensor, weight: torch.Tensor, m: torch.Tensor,
                           padding: int) -> torch.Tensor:
    """Dynamic unfold route: x (B, C, H, W), weight (O, C, kh, kw), m (B, K, H', W') or (B, K, K, H', W')
    -> (B, O, H', W')."""
    m_last = m.permute(0, 2, 3, 1) if m.dim() == 4 else m.permute(0, 3, 4, 1, 2)
    return UnfoldNSConv.apply(x, weight, m_last.contiguous(), padding)
