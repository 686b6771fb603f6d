"""The method interface: every few-shot method is one short subclass of :class:`FewShotMethod`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Dict, Tuple, Type

import torch
from torch import nn

from ..backbones.base import Backbone
from ..episodes.batch import EpisodeBatch


@dataclass
class MethodOptions:
    """Options shared by all methods; a method with options of its own subclasses this."""


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Fraction of rows of (Q, way) ``logits`` whose argmax equals (Q,) ``labels``; a 0-d tensor."""
    return (logits.argmax(dim=1) == labels).float().mean()


class FewShotMethod(nn.Module):
    """A few-shot classifier around a backbone.

    Args:
        backbone: the feature extractor (already built, NS options included).
        image_shape: (C, H, W) of the input images.
        num_base_classes: number of training classes (for supervised pre-training heads).
        options: this method's ``Options`` (defaults when None).
        train_way: way of the training episodes (for heads of fixed width, e.g. MAML's).

    Subclasses set the class attributes, implement :meth:`predict` (and :meth:`predict_from_features`
    when the query logits depend on the episode only through the support features), and build their own
    modules and check their options in :meth:`_build` rather than restating ``__init__``.

    Class attributes:
        Options: the dataclass of this method's own options (validated by the config schema).
        training_mode: ``"episodic"`` (trained with :meth:`loss` on episodes) or ``"supervised"`` (trained
            with :meth:`supervised_loss` on mini-batches of base-class images, e.g. fine-tuning).
        features_depend_on_episode: True for methods (MAML-style) whose embedding of an image changes with the
            episode; the evaluator then cannot embed each distinct image once.
        evaluation_kind: how a trained run is scored: ``"episodes"`` (few-shot accuracy on fixed episodes) or
            ``"classification"`` (top-1/top-5 error on a whole split, e.g. the ``classifier`` method).
    """

    Options: ClassVar[Type[MethodOptions]] = MethodOptions
    training_mode: ClassVar[str] = "episodic"
    features_depend_on_episode: ClassVar[bool] = False
    evaluation_kind: ClassVar[str] = "episodes"

    def __init__(
        self,
        backbone: Backbone,
        image_shape: Tuple[int, int, int],
        num_base_classes: int,
        options: MethodOptions | None = None,
        train_way: int = 5,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.image_shape = tuple(image_shape)
        self.num_base_classes = int(num_base_classes)
        self.train_way = int(train_way)
        self.options = options if options is not None else self.Options()
        self._build()

    def _build(self) -> None:
        """Subclass hook, called at the end of ``__init__`` with every attribute above set: validate
        ``self.options`` (raise ConfigError naming the key) and create the method's own modules (heads,
        relation modules, ...). The base method has none."""

    # -- inference ------------------------------------------------------------------------------
    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, D) features."""
        return self.backbone(images)

    def predict(
        self, support: torch.Tensor, support_labels: torch.Tensor, query: torch.Tensor, way: int
    ) -> torch.Tensor:
        """Logits (Q, way) for (Q, C, H, W) ``query`` given (S, C, H, W) ``support`` with (S,) labels.

        Support and query go through the backbone together, as one batch.
        """
        features = self.embed(torch.cat([support, query]))
        return self.predict_from_features(features[: len(support)], support_labels, features[len(support):], way)

    def predict_from_features(
        self, support_features: torch.Tensor, support_labels: torch.Tensor, query_features: torch.Tensor, way: int
    ) -> torch.Tensor:
        """Logits (Q, way) from (S, D) support and (Q, D) query features."""
        raise NotImplementedError(f"{type(self).__name__} scores raw images only")

    # -- training -------------------------------------------------------------------------------
    def forward(
        self, batch: "EpisodeBatch | Tuple[torch.Tensor, torch.Tensor]"
    ) -> Tuple[torch.Tensor, Dict[str, float]]:
        """Training loss of one item of the training stream: an episode, or an (images, labels) mini-batch.

        The trainer calls the method through ``forward`` so that DistributedDataParallel can wrap it.
        """
        if isinstance(batch, EpisodeBatch):
            return self.loss(batch)
        images, labels = batch
        return self.supervised_loss(images, labels)

    def loss(self, episode: EpisodeBatch) -> Tuple[torch.Tensor, Dict[str, float]]:
        """Training loss of one episode and metrics (at least ``accuracy``). Default: cross-entropy."""
        logits = self.predict(episode.support, episode.support_labels, episode.query, episode.way)
        loss = nn.functional.cross_entropy(logits, episode.query_labels)
        return loss, {"accuracy": float(accuracy(logits.detach(), episode.query_labels))}

    def supervised_loss(self, images: torch.Tensor, labels: torch.Tensor) -> Tuple[torch.Tensor, Dict[str, float]]:
        """Loss of a (B, C, H, W) batch of base-class images with (B,) labels (supervised methods only)."""
        raise NotImplementedError(f"{type(self).__name__} is trained episodically")
