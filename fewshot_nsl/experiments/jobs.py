"""Row x seed jobs of a study: their fixed order, their run directories, and sharding them over processes.

Generic over rows: a job is only a row key, a training seed and a run directory, so any table (the leaderboard,
another dataset's table) spreads its jobs the same way. Jobs are ordered rows first (table order), then seeds;
shard ``I/N`` takes jobs ``I, I + N, I + 2N, ...`` of that order, so N processes (a SLURM array, ``xargs -P``,
one process per core) together run every job exactly once, and an unsharded run afterwards finds them finished.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import ConfigError
from ..runtime.config import Config
from ..runtime.yaml_io import read_yaml


@dataclass(frozen=True)
class Job:
    """One training run of a study: row ``key`` trained with ``seed`` (None: the config's own seed)."""

    index: int
    key: str
    seed: int | None


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` -> (I, N) with 0 <= I < N; ConfigError naming the value otherwise."""
    parts = text.split("/")
    try:
        index, count = (int(p) for p in parts) if len(parts) == 2 else (-1, 0)
    except ValueError:
        index, count = -1, 0
    if count < 1 or not 0 <= index < count:
        raise ConfigError(f"--shard must be I/N with 0 <= I < N (e.g. 0/2), got {text!r}")
    return index, count


def make_jobs(keys: Sequence[str], seeds: Sequence[int | None]) -> list[Job]:
    """Every (row, seed) job, rows in the order of ``keys``, then seeds in the order of ``seeds``."""
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"--seeds: each seed once, got {list(seeds)}")
    pairs = [(k, s) for k in keys for s in seeds]
    return [Job(i, k, s) for i, (k, s) in enumerate(pairs)]


def in_shard(job: Job, shard: tuple[int, int] | None) -> bool:
    """True when ``job`` belongs to ``shard`` (I, N); every job belongs to ``None`` (no sharding)."""
    return shard is None or job.index % shard[1] == shard[0]


def _seed_of(run_dir: Path) -> int | None:
    """The training seed a run directory was made with (its ``config.yaml``), None when it holds no run."""
    saved = run_dir / "config.yaml"
    if not saved.is_file():
        return None
    seed = (read_yaml(saved).get("train") or {}).get("seed", 0)
    return int(seed)


def seed_run_dir(row_dir: Path, seed: int, several: bool) -> Path:
    """Where the run of one row with ``seed`` lives.

    The layout is ``row_dir/seed-N`` when a study has several seeds and ``row_dir`` itself (the single-seed
    layout every earlier leaderboard used) otherwise; a run already made under the *other* layout with the same
    seed is used where it is (finished first, else a started one, which then resumes), so a one-seed study
    grows into a three-seed one without retraining its seed. A directory that holds a run of another seed is
    never chosen while the other layout is free.
    """
    nested = row_dir / f"seed-{seed}"
    candidates = [nested, row_dir] if several else [row_dir, nested]
    mine = [d for d in candidates if _seed_of(d) == seed]
    finished = [d for d in mine if (d / "DONE").exists()]
    if finished or mine:
        return (finished or mine)[0]
    free = [d for d in candidates if _seed_of(d) is None]
    return (free or candidates)[0]


def with_seed(config: Config, seed: int | None) -> Config:
    """``config`` trained with ``seed`` (a copy; ``config`` itself when ``seed`` is None: its own seed)."""
    if seed is None:
        return config
    return dataclasses.replace(config, train=dataclasses.replace(config.train, seed=seed))


#: run_one(row key, config with its seed, run directory) -> that job's table entry (a dict)
RunOne = Callable[[str, Config, Path], dict[str, Any]]


def run_jobs(configs: Mapping[str, Config], out: Path, seeds: Sequence[int] | None,
             shard: tuple[int, int] | None, run_one: RunOne) -> dict[str, list[dict[str, Any]]]:
    """Run every (row, seed) job of ``shard`` with ``run_one``; each row key's entries, ``"seed"`` added.

    ``configs`` maps row keys (table order) to their resolved configs; ``seeds`` None: each row's own seed, one
    run each. Run directories: :func:`seed_run_dir` under ``out/<row key>``.
    """
    per_row: dict[str, list[dict[str, Any]]] = {key: [] for key in configs}
    for job in make_jobs(list(configs), list(seeds) if seeds else [None]):
        if in_shard(job, shard):
            config = with_seed(configs[job.key], job.seed)
            run_dir = seed_run_dir(out / job.key, config.train.seed, several=len(seeds or ()) > 1)
            per_row[job.key].append({**run_one(job.key, config, run_dir), "seed": config.train.seed})
    return per_row
