"""Score a few-shot method on fixed episodes: per-episode accuracy, mean and 95% CI.

Methods whose image features do not depend on the episode (``features_depend_on_episode = False``: ProtoNet,
NSN, nearest neighbour, ...) have each distinct image embedded **once** per evaluation; the others (MAML-style)
run :meth:`~fewshot_nsl.methods.FewShotMethod.predict` per episode with gradients enabled. Both give the same
accuracies for a method that supports both (BatchNorm in eval mode). Evaluation never augments.

The forward passes run in the given precision (:mod:`fewshot_nsl.runtime.precision`: fp32, bf16 or fp16
autocast); the accuracies, their mean and CI are float64 in every precision.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from ..episodes.files import LabelledSplit, episodes_fingerprint
from ..episodes.sampler import Episode
from ..core.errors import DataError
from ..methods.base import FewShotMethod
from ..runtime.precision import autocast
from .result import EvalResult

log = logging.getLogger(__name__)

#: ``transform(uint8 (N, H, W, C)) -> float (N, C, H, W)`` (e.g. ``fewshot_nsl.data.transforms.EpisodeTransform``)
Transform = Callable[..., torch.Tensor]


def _episode_accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of the (Q, way) ``logits`` rows whose argmax is the (Q,) label."""
    return float((logits.argmax(dim=1) == labels).double().mean())


def _check_shapes(episodes: Sequence[Episode]) -> tuple:
    if not episodes:
        raise DataError("no episodes to evaluate")
    shapes = {(e.way, e.shot, e.n_query) for e in episodes}
    if len(shapes) != 1:
        raise DataError(f"episodes of different shapes (way, shot, query) cannot be averaged: {sorted(shapes)}")
    return shapes.pop()


@torch.no_grad()
def embed_images(method: FewShotMethod, imageset: LabelledSplit, indices: np.ndarray, transform: Transform,
                 device: torch.device, batch_size: int = 256, progress: bool = True) -> torch.Tensor:
    """(len(indices), D) features of ``imageset.images[indices]``, in batches, on ``device``."""
    chunks = []
    starts = range(0, len(indices), batch_size)
    for start in tqdm(starts, desc="embed", disable=not progress, leave=False):
        batch = transform(np.asarray(imageset.images[indices[start:start + batch_size]])).to(device)
        chunks.append(method.embed(batch))
    return torch.cat(chunks)


def _cached(method, imageset, episodes, transform, device, batch_size, progress) -> np.ndarray:
    used = np.unique(np.concatenate([np.concatenate([e.support, e.query]) for e in episodes]))
    log.info("embedding %d distinct images once for %d episodes", len(used), len(episodes))
    features = embed_images(method, imageset, used, transform, device, batch_size, progress)
    accs = np.empty(len(episodes))
    with torch.no_grad():
        for k, e in enumerate(tqdm(episodes, desc="episodes", disable=not progress, leave=False)):
            s_rows = torch.as_tensor(np.searchsorted(used, e.support), device=device)
            q_rows = torch.as_tensor(np.searchsorted(used, e.query), device=device)
            s_labels = torch.as_tensor(e.support_labels, device=device)
            logits = method.predict_from_features(features[s_rows], s_labels, features[q_rows], e.way)
            accs[k] = _episode_accuracy(logits, torch.as_tensor(e.query_labels, device=device))
    return accs


def _per_episode(method, imageset, episodes, transform, device, progress) -> np.ndarray:
    accs = np.empty(len(episodes))
    for k, e in enumerate(tqdm(episodes, desc="episodes", disable=not progress, leave=False)):
        support = transform(np.asarray(imageset.images[e.support])).to(device)
        query = transform(np.asarray(imageset.images[e.query])).to(device)
        with torch.enable_grad():
            logits = method.predict(support, torch.as_tensor(e.support_labels, device=device), query, e.way)
        accs[k] = _episode_accuracy(logits.detach(), torch.as_tensor(e.query_labels, device=device))
    return accs


def episode_accuracies(
    method: FewShotMethod,
    imageset: LabelledSplit,
    episodes: Sequence[Episode],
    transform: Transform,
    device: torch.device | str = "cpu",
    batch_size: int = 256,
    progress: bool = False,
    cache_features: bool | None = None,
    precision: str = "fp32",
) -> np.ndarray:
    """(episodes,) float64 accuracy of ``method`` on each episode, as a **fraction**, in episode order.

    The method is put in eval mode and restored afterwards; see :func:`evaluate` for the arguments. With its
    defaults this is a :class:`~fewshot_nsl.training.validation.Validator` (what training validates with).
    """
    _check_shapes(episodes)
    device = torch.device(device)
    cache = (not method.features_depend_on_episode) if cache_features is None else bool(cache_features)
    was_training = method.training
    method.eval()
    try:
        with autocast(precision, device):
            if cache:
                return _cached(method, imageset, episodes, transform, device, batch_size, progress)
            return _per_episode(method, imageset, episodes, transform, device, progress)
    finally:
        method.train(was_training)


def evaluate(
    method: FewShotMethod,
    imageset: LabelledSplit,
    episodes: Sequence[Episode],
    transform: Transform,
    device: torch.device | str = "cpu",
    batch_size: int = 256,
    progress: bool = True,
    protocol: dict[str, Any] | None = None,
    cache_features: bool | None = None,
    precision: str = "fp32",
) -> EvalResult:
    """Accuracy (fractions) of ``method`` on ``episodes`` of ``imageset`` (``images`` (N, H, W, C) uint8).

    Args:
        method: a trained method; it is put in eval mode for the evaluation and restored afterwards.
        imageset: the split the episodes index into.
        episodes: fixed episodes (from an episodes file or a seeded sampler), all of one shape.
        transform: ``transform(uint8 (N, H, W, C)) -> float (N, C, H, W)``, never augmenting.
        device: where the method runs.
        batch_size: images per forward pass when embedding distinct images once.
        progress: show tqdm bars.
        protocol: settings to record with the result (episodes file, seed, method, ...), merged with the
            dataset, split, image size and fingerprint of the episodes found here.
        cache_features: force (True) or forbid (False) embedding each distinct image once; default
            ``not method.features_depend_on_episode``.
        precision: the resolved precision of the forward passes (fp32, bf16 or fp16), recorded in the protocol.
    """
    way, shot, query = _check_shapes(episodes)
    cache = (not method.features_depend_on_episode) if cache_features is None else bool(cache_features)
    accs = episode_accuracies(method, imageset, episodes, transform, device, batch_size, progress, cache, precision)
    images = getattr(imageset, "images", None)
    record = {
        "dataset": imageset.dataset,
        "split": imageset.split,
        "image_size": int(images.shape[1]) if images is not None else None,
        "way": way, "shot": shot, "query": query, "episodes": len(episodes),
        "episodes_sha256": episodes_fingerprint(imageset, episodes),
        "features": "embedded once per image" if cache else "per episode",
        "precision": precision,
        **(protocol or {}),
    }
    result = EvalResult.from_accuracies(accs, way, shot, query, record)
    log.info("%s", result.summary())
    return result
