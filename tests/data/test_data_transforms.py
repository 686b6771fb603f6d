"""EpisodeTransform: shapes, normalisation, crop/flip correctness, colour jitter formulas, seeded determinism."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from fewshot_nsl.data.transforms import EpisodeTransform

MEAN, STD = (120.0, 110.0, 100.0), (60.0, 50.0, 40.0)


def batch(n: int = 6, size: int = 20, c: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, c), dtype=np.uint8)


def test_plain_is_exact_normalisation() -> None:
    x = batch()
    y = EpisodeTransform(MEAN, STD, 20)(x)
    assert y.shape == (6, 3, 20, 20) and y.dtype == torch.float32 and y.is_contiguous()
    expected = (x.transpose(0, 3, 1, 2) - np.array(MEAN)[None, :, None, None]) / np.array(STD)[None, :, None, None]
    assert np.allclose(y.numpy(), expected, atol=1e-5)


def test_augment_without_rng_is_deterministic_and_plain() -> None:
    x = batch()
    assert torch.equal(EpisodeTransform(MEAN, STD, 20, augment=True)(x), EpisodeTransform(MEAN, STD, 20)(x))


def test_augmentation_is_a_function_of_the_rng() -> None:
    x, tf = batch(), EpisodeTransform(MEAN, STD, 20, augment=True)
    a = tf(x, np.random.default_rng(5))
    b = tf(x, np.random.default_rng(5))
    c = tf(x, np.random.default_rng(6))
    torch.manual_seed(123)
    np.random.seed(123)
    assert torch.equal(a, b) and torch.equal(a, tf(x, np.random.default_rng(5)))
    assert not torch.equal(a, c)
    assert not torch.equal(a, EpisodeTransform(MEAN, STD, 20)(x))


def test_crop_flip_is_a_reflect_padded_crop_possibly_mirrored() -> None:
    x = batch(n=40, size=12)
    tf = EpisodeTransform(MEAN, STD, 12, augment=True)
    assert tf.pad == 1
    tf.pad = 3
    out = tf.crop_flip(x, np.random.default_rng(0))
    padded = np.pad(x, ((0, 0), (3, 3), (3, 3), (0, 0)), mode="reflect")
    flips = 0
    for i in range(len(x)):
        crops = {(oy, ox): padded[i, oy:oy + 12, ox:ox + 12] for oy in range(7) for ox in range(7)}
        matches = [(oy, ox, f) for (oy, ox), crop in crops.items() for f in (False, True)
                   if np.array_equal(out[i], crop[:, ::-1] if f else crop)]
        assert matches, f"image {i} is not a crop of its padded image"
        flips += matches[0][2]
    assert 5 < flips < 35  # p = 0.5


def test_pad_is_about_a_tenth_of_the_size() -> None:
    assert EpisodeTransform(MEAN, STD, 84).pad == 8
    assert EpisodeTransform((0.0,), (1.0,), 28).pad == 3


def test_flip_only_when_pad_is_zero_offset() -> None:
    # an image constant along rows except one marked column: a flip moves the mark to the mirrored column
    x = np.zeros((64, 9, 9, 1), np.uint8)
    x[:, :, 1] = 255
    tf = EpisodeTransform((0.0,), (1.0,), 9, augment=True)
    tf.pad = 0
    out = tf.crop_flip(x, np.random.default_rng(3))
    cols = out[:, 0, :, 0].argmax(1)
    assert set(cols.tolist()) == {1, 7}


def reference_jitter(img: np.ndarray, b: float, c: float, s: float) -> np.ndarray:
    """torchvision's brightness/contrast/saturation on one (3, H, W) float image, without intermediate clamps."""
    luma = np.array([0.299, 0.587, 0.114])[:, None, None]
    img = img * b
    m = (img * luma).sum(0).mean()
    img = c * img + (1 - c) * m
    g = (img * luma).sum(0, keepdims=True)
    return np.clip(s * img + (1 - s) * g, 0, 255)


def test_colour_jitter_matches_the_definitions() -> None:
    x = batch(n=4, size=8).transpose(0, 3, 1, 2).astype(np.float64)
    tf = EpisodeTransform(MEAN, STD, 8, augment=True)
    out = tf.colour_jitter(torch.tensor(x, dtype=torch.float32), np.random.default_rng(9)).numpy()
    b, c, s = np.random.default_rng(9).uniform(0.6, 1.4, (3, 4))
    for i in range(4):
        assert np.allclose(out[i], reference_jitter(x[i], b[i], c[i], s[i]), atol=1e-3)


def test_grey_images_get_no_colour_jitter() -> None:
    x = batch(n=8, size=10, c=1)
    tf = EpisodeTransform((100.0,), (50.0,), 10, augment=True)
    y = tf(x, np.random.default_rng(1))
    cropped = tf.crop_flip(x, np.random.default_rng(1))
    assert np.allclose(y.numpy(), (cropped.transpose(0, 3, 1, 2) - 100.0) / 50.0, atol=1e-5)


def test_other_input_size_is_resized() -> None:
    assert EpisodeTransform(MEAN, STD, 16)(batch(size=24)).shape == (6, 3, 16, 16)


def test_read_only_memmap_input(tmp_path) -> None:
    path = tmp_path / "x.npy"
    np.save(path, batch())
    images = np.load(path, mmap_mode="r")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. torch's "non-writable NumPy array" warning
        y = EpisodeTransform(MEAN, STD, 20)(images[:2])
        z = EpisodeTransform(MEAN, STD, 20, augment=True)(images[:2], np.random.default_rng(0))
    assert y.shape == z.shape == (2, 3, 20, 20)
    assert not images.flags.writeable


def test_wrong_channel_count() -> None:
    with pytest.raises(ValueError, match="channels"):
        EpisodeTransform((0.0,), (1.0,), 20)(batch())
