"""Evaluate a trained run directory on fixed episodes (``fewshot-nsl eval RUN_DIR``).

Episodes come from, in order: ``episodes_file``; the run's ``eval.episodes_file``; the committed standard file
for (dataset, split, way, shot, query, episodes, seed) (see :func:`~fewshot_nsl.episodes.files.standard_episode_file`);
else a seeded :class:`~fewshot_nsl.episodes.EpisodeSampler` with the run's ``eval.seed``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..data import load_split
from ..episodes.files import LabelledSplit, read_episode_file, standard_episode_file
from ..episodes.sampler import Episode, EpisodeSampler
from ..core.errors import ConfigError, DataError
from ..runtime.config import Config
from ..runtime.run_dir import RunDir
from .evaluator import evaluate
from .loading import load_model
from .result import EvalResult, save_result

log = logging.getLogger(__name__)


def result_path(run_dir: str | Path, split: str, way: int, shot: int) -> Path:
    """``run_dir/eval/<split>_<way>way<shot>shot.json``."""
    return RunDir(Path(run_dir)).eval_dir / f"{split}_{way}way{shot}shot.json"


def choose_episodes(
    imageset: LabelledSplit,
    config: Config,
    way: int | None = None,
    shot: int | None = None,
    query: int | None = None,
    episodes: int | None = None,
    episodes_file: str | None = None,
) -> tuple[list[Episode], dict[str, Any]]:
    """The fixed episodes of ``imageset`` and the protocol entries that identify them (see the module docstring).

    ``way``/``shot``/``query``/``episodes`` default to the config's ``eval`` section; with an explicit file they
    must agree with it when given.
    """
    e = config.eval
    chosen = episodes_file or e.episodes_file
    if chosen:
        ef = read_episode_file(chosen)
        for name, asked, has in (("way", way, ef.way), ("shot", shot, ef.shot), ("query", query, ef.query),
                                 ("episodes", episodes, ef.episodes)):
            if asked is not None and asked != has:
                raise ConfigError(f"--{name} {asked} contradicts episodes file {chosen} ({name} {has})")
        return ef.to_episodes(imageset), {"episodes_file": str(ef.path), "episodes_file_sha256": ef.sha256,
                                          "seed": ef.seed}
    way, shot = way or e.way, shot or e.shot
    query, episodes = query or e.query, episodes or e.episodes
    standard = standard_episode_file(imageset.dataset, imageset.split, way, shot, query, episodes, e.seed)
    if standard is not None:
        ef = read_episode_file(standard)
        log.info("using the standard episodes file %s", standard)
        return ef.to_episodes(imageset), {"episodes_file": str(standard), "episodes_file_sha256": ef.sha256,
                                          "seed": ef.seed}
    where = f"{imageset.dataset}/{imageset.split}"
    sampler = EpisodeSampler(imageset.labels, way, shot, query, seed=e.seed, class_names=imageset.class_names,
                             where=where)
    log.info("no standard episodes file for %s %d-way %d-shot %d-query %d episodes: drawing them with seed %d",
             where, way, shot, query, episodes, e.seed)
    return [sampler.episode(i) for i in range(episodes)], {"episodes_file": None, "seed": e.seed}


def evaluate_run(
    run_dir: str | Path,
    split: str | None = None,
    way: int | None = None,
    shot: int | None = None,
    query: int | None = None,
    episodes: int | None = None,
    episodes_file: str | None = None,
    data_root: str | None = None,
    device: str = "auto",
    checkpoint: str = "best",
    save: bool = True,
) -> EvalResult:
    """Evaluate ``run_dir``'s ``checkpoint`` on fixed episodes and save the per-episode accuracies.

    Args:
        run_dir: a directory written by ``fewshot-nsl train``.
        split, way, shot, query, episodes: default to the run's ``eval`` settings (test, 5, 5, 15, 600).
        episodes_file: a fixed episodes file (default: the run's, then the standard one, then a seeded stream).
        data_root: the dataset folder (default: the run's ``data.data_root``, then ``$FEWSHOT_NSL_DATA``).
        device: ``auto``, ``cpu`` or ``cuda``.
        checkpoint: ``best``, ``last`` or a checkpoint path.
        save: write ``run_dir/eval/<split>_<way>way<shot>shot.json``.
    """
    from ..data.transforms import EpisodeTransform

    model = load_model(run_dir, checkpoint, device)
    config = model.config
    d = config.data
    split = split or config.eval.split
    imageset = load_split(d.dataset, split, data_root or d.data_root, d.image_size, d.cache_dir, d.class_split_rule())
    if tuple(imageset.image_shape) != tuple(model.image_shape):
        raise DataError(f"{d.dataset}/{split} images are {imageset.image_shape}, but run {run_dir} was trained on "
                        f"{tuple(model.image_shape)}")
    eps, source = choose_episodes(imageset, config, way, shot, query, episodes, episodes_file)
    transform = EpisodeTransform(mean=imageset.mean, std=imageset.std, image_size=imageset.image_shape[1],
                                 augment=False)
    protocol = {"method": config.method_name, "backbone": config.model.backbone, "nsl": config.model.nsl,
                "run_dir": str(run_dir), "checkpoint": str(model.checkpoint),
                "parameters": sum(p.numel() for p in model.method.parameters()), **source}
    result = evaluate(model.method, imageset, eps, transform, model.device, progress=config.train.progress,
                      protocol=protocol)
    if save:
        path = save_result(result, result_path(run_dir, split, result.way, result.shot))
        log.info("per-episode accuracies written to %s", path)
    return result
