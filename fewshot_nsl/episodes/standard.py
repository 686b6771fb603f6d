"""Where the committed standard episode files are found: ``$FEWSHOT_NSL_EPISODES``, then the package's own
``standard_files/`` folder (package data: found the same from a checkout, an editable install or a wheel)."""

from __future__ import annotations

import os
from pathlib import Path

from .file_format import episode_file_name

#: an ``os.pathsep``-separated list of folders searched before the package's own ``standard_files/``
ENV_VAR = "FEWSHOT_NSL_EPISODES"
#: the committed standard episode files (600 episodes, seed 0), shipped inside the package
STANDARD_DIR = Path(__file__).resolve().parent / "standard_files"


def episode_dirs() -> list[Path]:
    """Folders searched for standard episode files: ``$FEWSHOT_NSL_EPISODES`` entries, then :data:`STANDARD_DIR`."""
    dirs = [Path(p) for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p]
    dirs.append(STANDARD_DIR)
    return dirs


def standard_episode_file(dataset: str, split: str, way: int, shot: int, query: int = 15, episodes: int = 600,
                          seed: int = 0) -> Path | None:
    """The committed episodes file for these settings, or None when there is none (see :func:`episode_dirs`)."""
    name = episode_file_name(dataset, split, way, shot, query, episodes, seed)
    for folder in episode_dirs():
        if (folder / name).is_file():
            return folder / name
    return None
