"""Which settings of a saved run differ from a config: what resume and leaderboard reuse may accept."""

from __future__ import annotations

from pathlib import Path
from typing import List

from ..core.typed import flatten
from .schema import Config
from .yaml_io import read_yaml

__all__ = ["RESUMABLE_CHANGES", "changed_settings"]

#: settings that may change when a run is resumed (they do not change what is computed)
RESUMABLE_CHANGES = frozenset({
    "train.episodes", "train.device", "train.progress", "train.threads", "train.channels_last", "data.num_workers",
    "data.data_root", "data.cache_dir", "eval.episodes_file",
    "train.checkpoint_every_episodes", "train.checkpoint_every_minutes", "train.tensorboard", "eval.skip_if_missing",
})


def changed_settings(saved: Path, config: Config, allowed: frozenset = frozenset()) -> List[tuple]:
    """``(key, saved value, value in config)`` for every setting in which the config saved at ``saved`` differs
    from ``config``, ``allowed`` keys aside. The saved file is read through the schema, so a setting added to the
    schema (or a method option) after the run was made counts as its default."""
    old = flatten(Config.from_values(read_yaml(saved)).to_dict())
    new = flatten(config.to_dict())
    return [(key, old.get(key), new.get(key)) for key in sorted(set(old) | set(new))
            if key not in allowed and old.get(key) != new.get(key)]
