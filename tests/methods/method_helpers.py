"""Helpers of the method tests (imported by name: keep this file name unique in the tree)."""

from __future__ import annotations

import torch
from torch import nn

from fewshot_nsl import backbones
from fewshot_nsl.backbones.base import Backbone, WrappedBackbone
from fewshot_nsl.episodes.batch import EpisodeBatch

IMAGE_SHAPE = (3, 16, 16)


def synthetic_episode(way: int = 3, shot: int = 2, query: int = 3, seed: int = 0,
                      shape: tuple = IMAGE_SHAPE, noise: float = 0.5) -> EpisodeBatch:
    """Class c's images are a fixed random pattern plus ``noise`` * N(0, 1): a separable task."""
    g = torch.Generator().manual_seed(seed)
    patterns = torch.randn(way, *shape, generator=g)
    s_labels = torch.arange(way).repeat_interleave(shot)
    q_labels = torch.arange(way).repeat_interleave(query)
    support = patterns[s_labels] + noise * torch.randn(len(s_labels), *shape, generator=g)
    query_images = patterns[q_labels] + noise * torch.randn(len(q_labels), *shape, generator=g)
    return EpisodeBatch(support, s_labels, query_images, q_labels, way, shot)


class TinyMLP(nn.Module):
    """A BN-free backbone (for exact gradient references): flatten -> linear -> tanh."""

    def __init__(self, in_features: int = 3 * 16 * 16, out_features: int = 6) -> None:
        super().__init__()
        self.fc = nn.Linear(in_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.fc(x.flatten(1)))


def tiny_cnn(seed: int = 0, **options) -> Backbone:
    """A small CNN-4 (width 8): 16x16 inputs give 8x1x1 maps."""
    torch.manual_seed(seed)
    return backbones.build("cnn4", width=8, **options)


def tiny_mlp(seed: int = 0) -> Backbone:
    """A BN-free wrapped user module."""
    torch.manual_seed(seed)
    return WrappedBackbone(TinyMLP())


def assert_a_few_steps_reduce_the_loss(method: nn.Module, steps: int = 12, lr: float = 3e-3, seed: int = 4) -> None:
    """Adam on one synthetic episode for ``steps`` steps brings the episode's loss below 90 % of its start."""
    method.train()
    episode = synthetic_episode(seed=seed)
    optimizer = torch.optim.Adam(method.parameters(), lr=lr)
    first = float(method(episode)[0].detach())
    for _ in range(steps):
        loss, _ = method(episode)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert float(method(episode)[0].detach()) < 0.9 * first
