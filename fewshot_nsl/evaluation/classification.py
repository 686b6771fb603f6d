"""Evaluation of a classification run (``evaluation_kind = "classification"``): top-1 and top-5 error on a whole
split, each with a 95% **Wilson score** interval for a binomial proportion (n = the split's images).

Errors and intervals are fractions. A method of this kind offers ``logits(images) -> (B, num_classes)``; its
classes are those of the training split, so the split scored must share them (CIFAR's test split, the test split
of ``mini-imagenet-generic``). :func:`classification_accuracies` is the matching training
:class:`~fewshot_nsl.training.validation.Validator`: the top-1 accuracy on the images of each fixed validation
episode (a fixed subset of the validation split), one fraction per episode.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from ..core.atomic import atomic_write_text
from ..core.errors import DataError, FewShotError
from ..core.stats import Z95
from ..runtime.run_dir import RunDir
from .loading import load_model

log = logging.getLogger(__name__)

#: what is printed next to every interval
CI_METHOD = "Wilson score interval, 95% (z = 1.96), binomial over the split's images"


def wilson_interval(errors: int, n: int, z: float = Z95) -> tuple[float, float]:
    """(low, high) Wilson score interval of the proportion ``errors / n``."""
    if n < 1:
        raise DataError("no images to score")
    p = errors / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@torch.no_grad()
def top_k_correct(method: Any, images: np.ndarray, labels: np.ndarray, transform: Callable[..., torch.Tensor],
                  device: torch.device, k: int = 5, batch_size: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """(top-1 correct, top-k correct) boolean (N,) arrays of ``method`` on uint8 (N, H, W, C) ``images``.

    The method is scored in eval mode and put back in the mode it was in.
    """
    was_training = method.training
    method.eval()
    top1, topk = [], []
    try:
        for start in range(0, len(labels), batch_size):
            x = transform(np.asarray(images[start:start + batch_size])).to(device)
            y = torch.as_tensor(labels[start:start + batch_size], device=device).long()
            logits = method.logits(x)
            best = logits.topk(min(k, logits.shape[1]), dim=1).indices
            top1.append((best[:, 0] == y).cpu().numpy())
            topk.append((best == y[:, None]).any(1).cpu().numpy())
    finally:
        method.train(was_training)
    return np.concatenate(top1), np.concatenate(topk)


def classification_accuracies(method: Any, images: Any, episodes: Sequence[Any], transform: Callable[..., Any],
                              device: torch.device) -> np.ndarray:
    """(episodes,) top-1 accuracy (fractions) of the full-class ``logits`` on the support + query images of each
    episode, labels from ``images.labels``: validation during a classification run."""
    out = np.empty(len(episodes))
    for i, ep in enumerate(episodes):
        idx = np.sort(np.concatenate([ep.support, ep.query]))
        top1, _ = top_k_correct(method, images.images[idx], images.labels[idx], transform, torch.device(device))
        out[i] = float(top1.mean())
    return out


@dataclass
class ClassificationResult:
    """Top-1 / top-5 error (fractions) of a run on one whole split, with 95% Wilson intervals.

    ``top1_wrong`` is the per-image top-1 outcome in split order, one character per image ("1" wrong, "0"
    right; "" when not recorded): two runs scored on the same images (``protocol["images_sha256"]``) are compared
    image by image with it.
    """

    split: str
    images: int
    top1_error: float
    top5_error: float
    top1_ci95: tuple[float, float]
    top5_ci95: tuple[float, float]
    protocol: dict[str, Any] = field(default_factory=dict)
    top1_wrong: str = field(default="", repr=False)

    def wrong(self) -> np.ndarray:
        """(images,) float64 per-image top-1 error (1.0 wrong, 0.0 right); DataError when not recorded."""
        if len(self.top1_wrong) != self.images:
            raise DataError(f"the classification result of {self.protocol.get('run_dir', '?')} holds no per-image "
                            "outcomes; evaluate the run again")
        return np.frombuffer(self.top1_wrong.encode("ascii"), dtype=np.uint8).astype(np.float64) - ord("0")

    def summary(self) -> str:
        lo1, hi1 = self.top1_ci95
        lo5, hi5 = self.top5_ci95
        return (f"{self.protocol.get('dataset', '?')}/{self.split}: top-1 error {100 * self.top1_error:.2f}% "
                f"[{100 * lo1:.2f}, {100 * hi1:.2f}], top-5 error {100 * self.top5_error:.2f}% "
                f"[{100 * lo5:.2f}, {100 * hi5:.2f}] on {self.images} images ({CI_METHOD})")

    def payload(self) -> dict[str, Any]:
        """What ``--json`` prints: fractions, the intervals as [low, high]."""
        flat = {k: v for k, v in self.protocol.items() if isinstance(v, (str, int, float, bool)) or v is None}
        return {**flat, "split": self.split, "images": self.images, "top1_error": self.top1_error,
                "top1_ci95": list(self.top1_ci95), "top5_error": self.top5_error, "top5_ci95": list(self.top5_ci95),
                "ci_method": CI_METHOD}


def images_fingerprint(image_names: Sequence[str], labels: np.ndarray) -> str:
    """sha256 of a split's image names and labels, in order: equal for two results scored on the same images."""
    text = "\n".join(f"{n}\t{int(c)}" for n, c in zip(image_names, labels))
    return hashlib.sha256(text.encode()).hexdigest()


def result_path(run_dir: str | Path, split: str) -> Path:
    """``run_dir/eval/<split>_classification.json``."""
    return RunDir(Path(run_dir)).eval_dir / f"{split}_classification.json"


def load_classification_result(path: str | Path) -> ClassificationResult:
    """Read a result written by :func:`evaluate_classification_run`; DataError when missing or malformed."""
    try:
        data = json.loads(Path(path).read_text())
        data["top1_ci95"], data["top5_ci95"] = tuple(data["top1_ci95"]), tuple(data["top5_ci95"])
        return ClassificationResult(**data)
    except FileNotFoundError:
        raise DataError(f"classification result {path} does not exist") from None
    except FewShotError:
        raise
    except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError):
        raise DataError(f"{path} is not a classification result (JSON with its fields)") from None


def evaluate_classification_run(run_dir: str | Path, split: str | None = None, data_root: str | None = None,
                                device: str = "auto", checkpoint: str = "last",
                                save: bool = True) -> ClassificationResult:
    """Score ``run_dir``'s ``checkpoint`` (default ``last``: the final model, whatever validation said) on every
    image of ``split`` (default the run's ``eval.split``); saved to ``run_dir/eval/<split>_classification.json``."""
    from ..data import load_split
    from ..data.transforms import EpisodeTransform

    model = load_model(run_dir, checkpoint, device)
    d = model.config.data
    split = split or model.config.eval.split
    imageset = load_split(d.dataset, split, data_root or d.data_root, d.image_size, d.cache_dir)
    if tuple(imageset.image_shape) != tuple(model.image_shape):
        raise DataError(f"{d.dataset}/{split} images are {imageset.image_shape}, but run {run_dir} was trained on "
                        f"{tuple(model.image_shape)}")
    if imageset.num_classes != model.method.num_base_classes:
        raise DataError(f"{d.dataset}/{split} has {imageset.num_classes} classes, but run {run_dir} classifies "
                        f"{model.method.num_base_classes}")
    transform = EpisodeTransform(mean=imageset.mean, std=imageset.std, image_size=imageset.image_shape[1])
    top1, top5 = top_k_correct(model.method, imageset.images, imageset.labels, transform, model.device)
    n, wrong1, wrong5 = len(top1), int((~top1).sum()), int((~top5).sum())
    protocol = {"method": model.config.method_name, "dataset": d.dataset, "backbone": model.config.model.backbone,
                "nsl": model.config.model.nsl, "run_dir": str(run_dir), "checkpoint": str(model.checkpoint),
                "parameters": sum(p.numel() for p in model.method.parameters()),
                "image_size": int(imageset.image_shape[1]),
                "images_sha256": images_fingerprint(imageset.image_names, imageset.labels)}
    result = ClassificationResult(split, n, wrong1 / n, wrong5 / n, wilson_interval(wrong1, n),
                                  wilson_interval(wrong5, n), protocol,
                                  "".join("0" if ok else "1" for ok in top1.tolist()))
    if save:
        path = result_path(run_dir, split)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(asdict(result), indent=1) + "\n")
        log.info("classification result written to %s", path)
    return result
