"""Checks of the final evaluation's inputs before a run's first step, so a missing test split costs seconds, not
the whole training run.

The train and validation splits are loaded by the :class:`~.trainer.Trainer` itself before it writes anything;
this module checks what only the final evaluation reads: the ``eval.split`` split (its index and that every image
file is there, without decoding) and the episodes file it will be scored on (``eval.episodes_file``, or the
committed standard file found by :func:`~fewshot_nsl.episodes.files.standard_episode_file`, the lookup the
evaluation makes).
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..core.errors import DataError
from ..data import DATASETS, split_index
from ..data.roots import resolve_root
from ..episodes.files import SplitLabels, read_episode_file, standard_episode_file
from ..runtime.config import Config

__all__ = ["check_final_eval"]

log = logging.getLogger(__name__)


def _check_split_files(config: Config) -> SplitLabels:
    """The names and labels of the evaluation split, after checking that its files are all present."""
    d, split = config.data, config.eval.split
    spec = DATASETS.get(d.dataset)
    if spec.source is not None:
        root = resolve_root(d.dataset, d.data_root) if spec.needs_root else (Path(d.data_root) if d.data_root
                                                                             else None)
        spec.source(root, split, int(d.image_size or spec.default_image_size)).fingerprint()  # stats every file
    index = split_index(d.dataset, split, d.data_root)
    if not index.names:
        raise DataError(f"{d.dataset}/{split} holds no images")
    return SplitLabels(labels=index.labels, class_names=list(index.class_names), image_names=list(index.names),
                       dataset=d.dataset, split=split)


def _check_episodes_file(config: Config, labels: SplitLabels) -> None:
    """The episodes file the evaluation will use fits the split (a seeded stream, when there is none, always does)."""
    e = config.eval
    chosen = e.episodes_file or standard_episode_file(config.data.dataset, e.split, e.way, e.shot, e.query,
                                                      e.episodes, e.seed)
    if chosen is not None:
        read_episode_file(chosen).to_episodes(labels)


def check_final_eval(config: Config) -> bool:
    """Check the final evaluation's split and episodes file; True when the evaluation can run.

    Returns False (and logs one line) when the split cannot be read and ``eval.skip_if_missing`` is set.

    Raises:
        DataError: the split cannot be read (one line naming the split and its folder), or the episodes file does
            not fit it.
    """
    split = f"{config.data.dataset}/{config.eval.split}"
    try:
        labels = _check_split_files(config)
    except DataError as exc:
        if config.eval.skip_if_missing:
            log.warning("the final evaluation on %s will be skipped (eval.skip_if_missing): %s", split, exc)
            return False
        raise DataError(f"final-evaluation split {split} (eval.split) cannot be read: {exc}; "
                        "pass --skip-missing-eval to train without the final evaluation") from None
    _check_episodes_file(config, labels)
    return True
