"""Load a trained run as a ready-to-use model: ``fewshot_nsl.load_model(run_dir)``.

Example:
    >>> model = fewshot_nsl.load_model("runs/protonet")
    >>> x = model.transform(uint8_images)            # (N, H, W, C) uint8 -> (N, C, H, W) normalised
    >>> logits = model.predict(x[:25], labels, x[25:])  # (Q, way)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..core.errors import CheckpointError, FewShotError
from ..methods.base import FewShotMethod
from ..runtime.checkpoint import load_checkpoint
from ..runtime.config import Config, resolve_config
from ..runtime.schema import upgrade_saved
from ..runtime.device import resolve_device
from ..runtime.memory_format import place_method
from ..runtime.run_dir import RunDir


def config_from_dict(values: dict[str, Any], where: str) -> Config:
    """The :class:`Config` saved in a checkpoint (validated like any config; one saved before
    ``train.precision`` existed reads as the precision it ran in)."""
    if not isinstance(values, dict) or not isinstance(values.get("method"), dict):
        raise CheckpointError(f"checkpoint {where} holds no usable 'config'")
    try:
        return resolve_config(values["method"].get("name"), flags=upgrade_saved(values))
    except FewShotError as exc:
        raise CheckpointError(f"checkpoint {where}: its config is no longer valid ({exc})") from None


@dataclass
class FewShotModel:
    """A trained method in eval mode, with its config.

    Inputs of :meth:`embed` and :meth:`predict` are **already normalised** float tensors (N, C, H, W) of the
    size the model was trained on; :meth:`transform` makes them from uint8 (N, H, W, C) images.

    Attributes:
        method: the :class:`~fewshot_nsl.methods.FewShotMethod` (eval mode, on ``device``).
        config: the run's resolved config.
        image_shape: (C, H, W) the model expects.
        device: where it runs.
        mean, std: per-channel normalisation (0-255 units) used in training, when the checkpoint records it.
        checkpoint: the file the weights came from.
    """

    method: FewShotMethod
    config: Config
    image_shape: tuple[int, int, int]
    device: torch.device
    mean: Sequence[float] | None = None
    std: Sequence[float] | None = None
    checkpoint: Path | None = None

    def transform(self, images: np.ndarray) -> torch.Tensor:
        """uint8 (N, H, W, C) images -> normalised float (N, C, H, W), resized to the model's size, no augmentation."""
        from ..data.transforms import EpisodeTransform

        if self.mean is None or self.std is None:
            raise CheckpointError(f"checkpoint {self.checkpoint} does not record its normalisation (mean/std); "
                                  "normalise the images yourself")
        return EpisodeTransform(mean=self.mean, std=self.std, image_size=self.image_shape[1], augment=False)(images)

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) normalised images -> (B, D) features."""
        with torch.no_grad():
            return self.method.embed(images.to(self.device))

    def predict(self, support: torch.Tensor, support_labels: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        """(Q, way) logits for ``query`` given ``support`` with (S,) labels in [0, way); way = max label + 1."""
        labels = torch.as_tensor(support_labels, device=self.device).long()
        way = int(labels.max()) + 1
        support, query = support.to(self.device), query.to(self.device)
        if self.method.features_depend_on_episode:
            with torch.enable_grad():
                return self.method.predict(support, labels, query, way).detach()
        with torch.no_grad():
            return self.method.predict(support, labels, query, way)


def state_dict_mismatch(module: torch.nn.Module, state: dict[str, Any]) -> str:
    """Load ``state`` into ``module``; "" when it fits, else one line saying what is missing, extra or mis-shaped."""
    try:
        missing, unexpected = module.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # a shape mismatch
        return next((line.strip() for line in str(exc).splitlines() if "size mismatch" in line), str(exc))[:300]
    parts = [f"{len(keys)} {kind} keys (e.g. {keys[0]!r})" for kind, keys in (("missing", missing),
                                                                            ("unexpected", unexpected)) if keys]
    return "; ".join(parts)


def load_model(run_dir: str | Path, checkpoint: str = "best", device: str = "auto") -> FewShotModel:
    """Rebuild the method of ``run_dir`` from ``checkpoints/<checkpoint>.pt`` (``best``, ``last`` or a path).

    The checkpoint holds ``config`` (dict), ``image_shape``, ``num_base_classes`` and ``model`` (state dict);
    a state dict that does not fit the rebuilt method raises CheckpointError naming both.
    """
    from ..runtime.build import build_method

    run = RunDir(Path(run_dir))
    path = run.checkpoint(checkpoint)
    if checkpoint in ("best", "last") and not path.exists() and not run.root.is_dir():
        raise CheckpointError(f"run directory {run.root} does not exist")
    dev = resolve_device(device)
    state = load_checkpoint(path, map_location="cpu")
    missing = [k for k in ("config", "image_shape", "num_base_classes") if k not in state]
    if missing:
        raise CheckpointError(f"checkpoint {path} lacks {', '.join(missing)}; it was not written by fewshot-nsl train")
    config = config_from_dict(state["config"], str(path))
    image_shape = tuple(int(v) for v in state["image_shape"])
    method = build_method(config, image_shape, int(state["num_base_classes"]))
    problem = state_dict_mismatch(method, state["model"])
    if problem:
        raise CheckpointError(f"checkpoint {path} does not fit method {config.method_name!r} with backbone "
                              f"{config.model.backbone!r} (nsl={config.model.nsl}): {problem}")
    place_method(method, dev, config.train.channels_last).eval()
    return FewShotModel(method, config, image_shape, dev, state.get("mean"), state.get("std"), path)
