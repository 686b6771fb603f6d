"""Where the committed standard episode files are found: ``$FEWSHOT_NSL_EPISODES``, then ``<checkout>/episodes``."""

from __future__ import annotations

import os
from pathlib import Path

from .file_format import episode_file_name

#: an ``os.pathsep``-separated list of folders searched before the checkout's own ``episodes/``
ENV_VAR = "FEWSHOT_NSL_EPISODES"


def episode_dirs() -> list[Path]:
    """Folders searched for standard episode files: ``$FEWSHOT_NSL_EPISODES`` entries, then ``<checkout>/episodes``."""
    dirs = [Path(p) for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p]
    dirs.append(Path(__file__).resolve().parents[2] / "episodes")
    return dirs


def standard_episode_file(dataset: str, split: str, way: int, shot: int, query: int = 15, episodes: int = 600,
                          seed: int = 0) -> Path | None:
    """The committed episodes file for these settings, or None when there is none (see :func:`episode_dirs`)."""
    name = episode_file_name(dataset, split, way, shot, query, episodes, seed)
    for folder in episode_dirs():
        if (folder / name).is_file():
            return folder / name
    return None
