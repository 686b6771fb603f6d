"""Relation Networks (Sung et al., 2018): a learned relation module scores (class map, query map) pairs.

The backbone's unpooled feature maps (B, C, h, w) are used. Per class, the support maps are summed (Sung et
al.'s K-shot rule); each class map is concatenated with each query map along channels and scored in [0, 1]
by the relation module; training regresses the scores on one-hot labels with MSE.

Relation module (Sung et al.): 2 x [conv3x3 -> 64, BN, ReLU, maxpool 2], FC -> 8, ReLU, FC -> 1, sigmoid,
initialised as in their code (see :meth:`RelationModule.reset_parameters`).
The convs are padded when the maps are smaller than 10x10 (CloserLook's rule, so CNN-4's 5x5 maps work:
5 -> 2 -> 1); Sung et al. used unpadded convs on the 19x19 maps of a Conv-4 without the last two poolings.
A pooling that would empty the map (1x1) is skipped.

Features for the evaluator's cache are the flattened maps (B, C*h*w); they are reshaped back here.

``transductive_bn`` (option, default False): Sung et al.'s released code never put BN in eval mode (and its
momentum of 1 made the running statistics those of the last batch), so at test time every BN normalised with the
statistics of the episode being scored. With the option on, evaluation does that: see :func:`batch_statistics`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn

from ..episodes.batch import EpisodeBatch
from .base import FewShotMethod, MethodOptions, accuracy
from .registry import register_method


@dataclass
class RelationNetOptions(MethodOptions):
    """Attributes:
        transductive_bn: at evaluation (eval mode), every BN of the encoder and of the relation module normalises
            with the statistics of the episode (support and query images through the encoder together; all
            (class, query) pairs through the relation module), as Sung et al.'s code did, and updates no running
            statistics. A query's scores then depend on the other queries of its episode. False (default): eval-
            mode BN with the running statistics of training, so they depend on the support set only.
    """

    transductive_bn: bool = False


@contextlib.contextmanager
def batch_statistics(module: nn.Module) -> Iterator[None]:
    """Within the block every BatchNorm of ``module`` normalises with the statistics of the batch it is given
    and reads or writes no running statistics (they are detached for the block and put back after it)."""
    saved = []
    for bn in module.modules():
        if isinstance(bn, nn.modules.batchnorm._BatchNorm):
            saved.append((bn, bn.training, bn.running_mean, bn.running_var, bn.num_batches_tracked))
            # train-mode BN with no running buffers: F.batch_norm uses the batch's statistics and updates nothing
            bn.training, bn.running_mean, bn.running_var, bn.num_batches_tracked = True, None, None, None
    try:
        yield
    finally:
        for bn, training, mean, var, count in saved:
            bn.training, bn.running_mean, bn.running_var, bn.num_batches_tracked = training, mean, var, count


def _relation_block(in_channels: int, size: tuple[int, int], padding: int) -> tuple[nn.Sequential, tuple[int, int]]:
    """[conv3x3 -> 64, BN, ReLU, maxpool 2 (skipped on a map with a side of 1)] and its output (h, w)."""
    h, w = (s + 2 * padding - 2 for s in size)
    layers: list[nn.Module] = [nn.Conv2d(in_channels, 64, 3, padding=padding), nn.BatchNorm2d(64), nn.ReLU()]
    if min(h, w) >= 2:
        layers.append(nn.MaxPool2d(2))
        h, w = h // 2, w // 2
    return nn.Sequential(*layers), (h, w)


class RelationModule(nn.Module):
    """(P, 2C, h, w) concatenated pairs -> (P,) relation scores in [0, 1].

    Args:
        channels, height, width: the shape (C, h, w) of one backbone feature map.
        hidden: width of the hidden FC layer (8 in Sung et al.).
    """

    def __init__(self, channels: int, height: int, width: int, hidden: int = 8) -> None:
        super().__init__()
        padding = 1 if min(height, width) < 10 else 0
        block1, size = _relation_block(2 * channels, (height, width), padding)
        block2, size = _relation_block(64, size, padding)
        self.convs = nn.Sequential(block1, block2)
        self.fc = nn.Sequential(nn.Linear(64 * size[0] * size[1], hidden), nn.ReLU(), nn.Linear(hidden, 1),
                                nn.Sigmoid())
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Sung et al.'s initialisation: convs He-normal (fan-out) with zero bias, FCs N(0, 0.01^2) with bias 1.
        The bias of 1 keeps the 8 hidden ReLUs alive at the start; with PyTorch's default init they can all
        die, and the module then outputs one constant that MSE drives to 1/way (accuracy stuck at chance)."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0.0, 0.01)
                nn.init.ones_(module.bias)

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        return self.fc(self.convs(pairs).flatten(1)).squeeze(1)


@register_method("relationnet")
class RelationNet(FewShotMethod):
    """Logits are relation scores in [0, 1]; the training loss is MSE to one-hot labels."""

    Options = RelationNetOptions

    def _build(self) -> None:
        self.map_shape = tuple(self.backbone.map_shape(self.image_shape))
        self.relation = RelationModule(*self.map_shape)
        # with episode statistics an image's features depend on its episode: the evaluator must not cache them
        self.features_depend_on_episode = bool(self.options.transductive_bn)

    def _episode_statistics(self, module: nn.Module) -> contextlib.AbstractContextManager:
        """BN with the episode's statistics in eval mode when ``transductive_bn``; else nothing changes."""
        if self.options.transductive_bn and not self.training:
            return batch_statistics(module)
        return contextlib.nullcontext()

    def predict(
        self, support: torch.Tensor, support_labels: torch.Tensor, query: torch.Tensor, way: int
    ) -> torch.Tensor:
        """(Q, way) scores; support and query go through the encoder as one batch (one set of statistics).

        With ``transductive_bn`` in eval mode the scores are detached, as for every method whose features
        depend on the episode (the evaluator calls those with gradients enabled, for MAML's inner loop)."""
        if self.options.transductive_bn and not self.training:
            with batch_statistics(self), torch.no_grad():
                return super().predict(support, support_labels, query, way)
        return super().predict(support, support_labels, query, way)

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, C'*h*w) flattened feature maps."""
        return self.backbone.forward_map(images).flatten(1)

    def predict_from_features(
        self, support_features: torch.Tensor, support_labels: torch.Tensor, query_features: torch.Tensor, way: int
    ) -> torch.Tensor:
        """(S, C'*h*w), (S,), (Q, C'*h*w) -> (Q, way) relation scores."""
        support = support_features.reshape(-1, *self.map_shape)
        query = query_features.reshape(-1, *self.map_shape)
        class_maps = torch.zeros(way, *self.map_shape, dtype=support.dtype, device=support.device)
        class_maps = class_maps.index_add(0, support_labels, support)
        n_query = len(query)
        pairs = torch.cat(
            [class_maps[None].expand(n_query, -1, -1, -1, -1), query[:, None].expand(-1, way, -1, -1, -1)], dim=2
        )
        with self._episode_statistics(self.relation):
            scores = self.relation(pairs.reshape(n_query * way, 2 * self.map_shape[0], *self.map_shape[1:]))
        return scores.view(n_query, way)

    def loss(self, episode: EpisodeBatch) -> tuple[torch.Tensor, dict[str, float]]:
        """MSE between the (Q, way) scores and one-hot query labels."""
        scores = self.predict(episode.support, episode.support_labels, episode.query, episode.way)
        target = nn.functional.one_hot(episode.query_labels, episode.way).to(scores.dtype)
        loss = nn.functional.mse_loss(scores, target)
        return loss, {"accuracy": float(accuracy(scores.detach(), episode.query_labels))}
