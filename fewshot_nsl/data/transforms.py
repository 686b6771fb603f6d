"""Per-episode image transforms in plain numpy/torch (no torchvision), vectorised over the episode.

Augmentation (training only): random crop with reflect padding (pad = round(image_size / 10), i.e. 8 at 84),
horizontal flip with p = 0.5, then for RGB colour jitter in the fixed order brightness, contrast, saturation
(factors uniform in [0.6, 1.4], torchvision's definitions composed without intermediate clamps, clamped to
[0, 255] once). All randomness comes from the ``rng`` passed in, so an episode's augmentation is a function of its
seed. Without augmentation (or without an ``rng``) the transform is deterministic: convert and normalise.

:data:`AUGMENTATIONS` names the augmentation recipes (``data.augmentation``): ``fewshot`` (the above) and ``cifar``
(the released NSL code's CIFAR recipe, NSL_SPEC §6: pad 4 with symmetric, edge-inclusive reflection, random crop,
horizontal flip, no colour jitter).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.nn import functional as F

#: ITU-R 601 luma weights (as PIL and torchvision use for grey)
_LUMA = (0.299, 0.587, 0.114)


#: ``data.augmentation`` -> the EpisodeTransform options of that recipe
AUGMENTATIONS: dict[str, dict] = {
    "fewshot": {},
    "cifar": {"pad": 4, "pad_mode": "symmetric", "jitter": 0.0},  # NSL_SPEC §6
}


class EpisodeTransform:
    """uint8 images (N, H, W, C) -> normalised float tensor (N, C, H, W).

    Args:
        mean, std: per-channel statistics in 0-255 units (length C).
        image_size: side length of the output; inputs of another size are resized (bilinear).
        augment: apply the training augmentation when an ``rng`` is given.
        jitter: colour-jitter strength for brightness, contrast and saturation (RGB only).
        pad: crop padding (default round(image_size / 10), at least 1).
        pad_mode: ``reflect`` (edge excluded) or ``symmetric`` (edge included), as ``np.pad`` names them.
    """

    def __init__(
        self,
        mean: Sequence[float],
        std: Sequence[float],
        image_size: int,
        augment: bool = False,
        jitter: float = 0.4,
        pad: int | None = None,
        pad_mode: str = "reflect",
    ) -> None:
        self.mean = torch.tensor([float(m) for m in mean], dtype=torch.float32).view(1, -1, 1, 1)
        self.std = torch.tensor([float(s) for s in std], dtype=torch.float32).view(1, -1, 1, 1)
        self.image_size = int(image_size)
        self.augment = bool(augment)
        self.jitter = float(jitter)
        self.pad = max(1, round(self.image_size / 10)) if pad is None else int(pad)
        self.pad_mode = pad_mode

    def __repr__(self) -> str:
        return (f"EpisodeTransform(image_size={self.image_size}, augment={self.augment}, pad={self.pad}, "
                f"mean={self.mean.flatten().tolist()}, std={self.std.flatten().tolist()})")

    def __call__(self, images: np.ndarray, rng: np.random.Generator | None = None) -> torch.Tensor:
        """(N, H, W, C) uint8 -> (N, C, image_size, image_size) float32, normalised by mean/std.

        With ``augment`` and an ``rng``: crop + flip (+ colour jitter for C = 3); otherwise deterministic.
        """
        x = np.asarray(images)
        if x.ndim != 4:
            raise ValueError(f"expected (N, H, W, C) images, got shape {x.shape}")
        n, h, w, c = x.shape
        if c != self.mean.shape[1]:
            raise ValueError(f"images have {c} channels but mean/std have {self.mean.shape[1]}")
        randomise = self.augment and rng is not None and n > 0
        if randomise:
            x = self.crop_flip(x, rng)
        t = torch.from_numpy(np.array(x.transpose(0, 3, 1, 2), dtype=np.uint8, order="C")).float()
        if (h, w) != (self.image_size, self.image_size):
            t = F.interpolate(t, size=(self.image_size, self.image_size), mode="bilinear", align_corners=False,
                              antialias=True).clamp_(0, 255)
        if randomise and c == 3 and self.jitter > 0:
            t = self.colour_jitter(t, rng)
        return t.mul_(1.0 / self.std).add_(-self.mean / self.std)

    def crop_flip(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """(N, H, W, C) uint8 -> same shape: a random crop of the reflect-padded image, flipped with p = 0.5.

        Image i is ``padded[i, oy:oy + H, ox:ox + W]`` with ``oy, ox`` uniform in ``[0, 2 * pad]``, then
        reversed along W when flipped. One slice copy per image (faster than a fancy-index gather).
        """
        n, h, w, _ = x.shape
        p = min(self.pad, h - 1, w - 1)
        oy, ox = rng.integers(0, 2 * p + 1, size=(2, n))
        flip = rng.random(n) < 0.5
        padded = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), mode=self.pad_mode)
        out = np.empty_like(padded[:, :h, :w])
        for i in range(n):
            crop = padded[i, oy[i]:oy[i] + h, ox[i]:ox[i] + w]
            out[i] = crop[:, ::-1] if flip[i] else crop
        return out

    def colour_jitter(self, t: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
        """Brightness b, contrast c, saturation s of (N, 3, H, W) float 0-255 images, one factor each per image.

        ``x -> b * x`` (brightness), ``x -> c * x + (1 - c) * mean(grey(x))`` (contrast),
        ``x -> s * x + (1 - s) * grey(x)`` (saturation), as torchvision defines them, but composed without the
        intermediate clamps (brightness and contrast fold into one affine map) and clamped to [0, 255] once.
        """
        n = t.shape[0]
        lo, hi = max(0.0, 1 - self.jitter), 1 + self.jitter
        b, c, s = (torch.from_numpy(v.astype(np.float32)).view(n, 1, 1, 1) for v in rng.uniform(lo, hi, (3, n)))
        luma = torch.tensor(_LUMA, dtype=t.dtype).view(1, 3, 1, 1)
        grey_mean = (t * luma).sum(1, keepdim=True).mean((2, 3), keepdim=True)
        t = t.mul_(b * c).add_(grey_mean * b * (1 - c))
        grey = (t * luma).sum(1, keepdim=True)
        return t.mul_(s).add_(grey * (1 - s)).clamp_(0, 255)
