"""The synthetic dataset: deterministic, disjoint splits, near-chance for pixels but structured."""

from __future__ import annotations

import numpy as np
import torch

from fewshot_nsl.data import load_split, split_index, synthetic
from fewshot_nsl.episodes.sampler import EpisodeSampler


def test_shapes_and_sizes() -> None:
    for split, classes in (("train", 64), ("val", 16), ("test", 20)):
        s = load_split("synthetic", split)
        assert s.images.shape == (classes * 60, 32, 32, 3) and s.images.dtype == np.uint8
        assert np.bincount(s.labels).tolist() == [60] * classes
    assert load_split("synthetic", "val", image_size=20).images.shape == (16 * 60, 20, 20, 3)


def test_deterministic_and_independent_of_global_rng() -> None:
    np.random.seed(1)
    torch.manual_seed(1)
    a = load_split("synthetic", "val")
    np.random.seed(2)
    b = load_split("synthetic", "val")
    assert np.array_equal(a.images, b.images) and a.image_names == b.image_names
    assert np.array_equal(a.images[:60], synthetic.class_images(64))


def test_splits_are_disjoint() -> None:
    sets = {s: load_split("synthetic", s) for s in ("train", "val", "test")}
    names = {s: set(v.class_names) for s, v in sets.items()}
    assert not (names["train"] & names["val"]) and not (names["train"] & names["test"])
    assert not (names["val"] & names["test"])
    assert len(set.union(*names.values())) == 100
    assert sets["test"].image_names[0] == f"synthetic/test/{sets['test'].class_names[0]}/0"


def test_split_index_without_pixels() -> None:
    index = split_index("synthetic", "test")
    assert index.names == load_split("synthetic", "test").image_names


def _accuracy(features: np.ndarray, labels: np.ndarray, episodes: int = 100) -> float:
    sampler = EpisodeSampler(labels, way=5, shot=5, query=15, seed=7)
    hits = []
    for i in range(episodes):
        e = sampler[i]
        protos = features[e.support].reshape(5, 5, -1).mean(1)
        d = ((features[e.query][:, None] - protos[None]) ** 2).sum(-1)
        hits.append(np.mean(d.argmin(1) == e.query_labels))
    return float(np.mean(hits))


def test_pixels_are_weak_but_the_classes_have_learnable_structure() -> None:
    s = load_split("synthetic", "test")
    pixels = s.images.reshape(len(s.images), -1).astype(np.float32) / 255
    grey = s.images.astype(np.float32).mean(-1)
    grey -= grey.mean((1, 2), keepdims=True)
    spectrum = np.abs(np.fft.fft2(grey))  # shift-invariant: sees orientation and frequency, not phase
    spectrum = (spectrum / np.linalg.norm(spectrum, axis=(1, 2), keepdims=True)).reshape(len(grey), -1)
    pixel_acc, spectrum_acc = _accuracy(pixels, s.labels), _accuracy(spectrum, s.labels)
    assert 0.2 < pixel_acc < 0.45
    assert spectrum_acc > pixel_acc + 0.15
