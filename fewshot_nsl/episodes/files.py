"""Fixed evaluation-episode files: every model is scored on the very same episodes.

Format (gzip'ed JSON, ``.json.gz``, byte-identical across runs and machines)::

    {"format": "fewshot-nsl-episodes", "version": 1,
     "dataset": "mini-imagenet", "split": "test", "way": 5, "shot": 5, "query": 15, "episodes": 600, "seed": 0,
     "names": [distinct image names, sorted],            # e.g. "n0153282900000005.jpg"
     "classes": [class names of the split],               # e.g. "n01532829"
     "episode_list": [{"class_ids": [way ints into classes],
                       "support": [way*shot ints into names],   # class-major, as in Episode
                       "query": [way*query ints into names]}, ...]}

Episode ``i`` of a file made with seed ``s`` is ``EpisodeSampler(labels, way, shot, query, seed=s).episode(i)`` on
the split it was made from. Files are looked up by :func:`standard_episode_file` in ``$FEWSHOT_NSL_EPISODES`` (a
``os.pathsep``-separated list of folders) and then in the ``episodes/`` folder of the source checkout.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..core.errors import DataError
from .sampler import Episode, EpisodeSampler

FORMAT = "fewshot-nsl-episodes"
VERSION = 1
ENV_VAR = "FEWSHOT_NSL_EPISODES"


class LabelledSplit(Protocol):
    """What episode files need from a split: an :class:`~fewshot_nsl.data.ImageSet`, or names and labels only."""

    labels: np.ndarray
    class_names: list[str]
    image_names: list[str]
    dataset: str
    split: str


@dataclass(frozen=True)
class SplitLabels:
    """A split's image names and labels without its pixels (enough to make episodes; see :class:`LabelledSplit`).

    Attributes:
        labels: (N,) int64 class index of each image.
        class_names, image_names, dataset, split: as in :class:`~fewshot_nsl.data.ImageSet`.
    """

    labels: np.ndarray
    class_names: list[str]
    image_names: list[str]
    dataset: str
    split: str

    @classmethod
    def read(cls, dataset: str, split: str, data_root: str | None = None) -> SplitLabels:
        """Names and labels of a split via :func:`fewshot_nsl.data.split_index` (no pixels decoded when the
        reader can avoid it, e.g. the Mini-ImageNet test split from ``test.csv`` alone)."""
        from ..data import split_index

        index = split_index(dataset, split, data_root)
        return cls(labels=np.asarray(index.labels, dtype=np.int64), class_names=list(index.class_names),
                   image_names=list(index.names), dataset=dataset, split=split)


def episode_file_name(dataset: str, split: str, way: int, shot: int, query: int = 15, episodes: int = 600,
                      seed: int = 0) -> str:
    """``mini-imagenet_test_5way5shot15query_600ep_seed0.json.gz``."""
    return f"{dataset}_{split}_{way}way{shot}shot{query}query_{episodes}ep_seed{seed}.json.gz"


@dataclass
class EpisodeFile:
    """A read episode file (see the module docstring for the fields)."""

    dataset: str
    split: str
    way: int
    shot: int
    query: int
    seed: int
    names: list[str]
    classes: list[str]
    episode_list: list[dict[str, list[int]]]
    path: Path | None = None
    sha256: str = ""

    @property
    def episodes(self) -> int:
        return len(self.episode_list)

    def header(self) -> dict[str, Any]:
        """The settings of the file (no tables)."""
        return {"format": FORMAT, "version": VERSION, "dataset": self.dataset, "split": self.split,
                "way": self.way, "shot": self.shot, "query": self.query, "episodes": self.episodes,
                "seed": self.seed}

    def to_episodes(self, imageset: LabelledSplit) -> list[Episode]:
        """The episodes as indices into ``imageset``; DataError when the file was made for other images."""
        where = f"{imageset.dataset}/{imageset.split}"
        index = {n: i for i, n in enumerate(imageset.image_names)}
        missing = [n for n in self.names if n not in index]
        if missing:
            raise DataError(
                f"episodes file {self.path} was made for {self.dataset}/{self.split}: {len(missing)} of its "
                f"{len(self.names)} images (e.g. {missing[0]!r}) are not in {where}"
            )
        rows = np.array([index[n] for n in self.names], dtype=np.int64)
        class_index = {n: i for i, n in enumerate(imageset.class_names)}
        unknown = [c for c in self.classes if c not in class_index]
        if unknown:
            raise DataError(f"episodes file {self.path}: class {unknown[0]!r} is not a class of {where}")
        class_rows = np.array([class_index[c] for c in self.classes], dtype=np.int64)
        labels = np.asarray(imageset.labels)
        out = []
        for i, item in enumerate(self.episode_list):
            classes = class_rows[np.asarray(item["class_ids"], dtype=np.int64)]
            support = rows[np.asarray(item["support"], dtype=np.int64)]
            query = rows[np.asarray(item["query"], dtype=np.int64)]
            expected_s = np.repeat(classes, self.shot)
            expected_q = np.repeat(classes, self.query)
            if not (np.array_equal(labels[support], expected_s) and np.array_equal(labels[query], expected_q)):
                raise DataError(f"episodes file {self.path}: episode {i} labels its images differently from {where}")
            out.append(Episode(index=i, classes=classes, support=support, query=query,
                               way=self.way, shot=self.shot, n_query=self.query))
        return out


def _encode(payload: dict[str, Any]) -> bytes:
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode()
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as handle:
        handle.write(text)
    return buffer.getvalue()


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; an episodes file is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def build_episode_file(imageset: LabelledSplit, way: int, shot: int, query: int, episodes: int,
                       seed: int = 0) -> EpisodeFile:
    """The first ``episodes`` episodes of ``EpisodeSampler(seed=seed)`` on ``imageset``, in file form."""
    if episodes < 1:
        raise DataError(f"episodes must be >= 1, got {episodes}")
    where = f"{imageset.dataset}/{imageset.split}"
    sampler = EpisodeSampler(imageset.labels, way, shot, query, seed=seed,
                             class_names=imageset.class_names, where=where)
    drawn = [sampler.episode(i) for i in range(episodes)]
    used = np.unique(np.concatenate([np.concatenate([e.support, e.query]) for e in drawn]))
    names = sorted(imageset.image_names[i] for i in used)
    position = {n: k for k, n in enumerate(names)}
    image_pos = {int(i): position[imageset.image_names[i]] for i in used}
    items = [{"class_ids": [int(c) for c in e.classes],
              "support": [image_pos[int(i)] for i in e.support],
              "query": [image_pos[int(i)] for i in e.query]} for e in drawn]
    return EpisodeFile(dataset=imageset.dataset, split=imageset.split, way=int(way), shot=int(shot),
                       query=int(query), seed=int(seed), names=names, classes=list(imageset.class_names),
                       episode_list=items)


def write_episode_file(episode_file: EpisodeFile, path: str | Path) -> Path:
    """Write ``episode_file`` to ``path`` (gzip with mtime 0: the same episodes give the same bytes)."""
    path = Path(path)
    payload = {**episode_file.header(), "names": episode_file.names, "classes": episode_file.classes,
               "episode_list": episode_file.episode_list}
    data = _encode(payload)
    _write_atomic(path, data)
    episode_file.path, episode_file.sha256 = path, hashlib.sha256(data).hexdigest()
    return path


def make_episode_file(imageset: LabelledSplit, way: int, shot: int, query: int, episodes: int, seed: int,
                      path: str | Path) -> Path:
    """Draw ``episodes`` seeded episodes from ``imageset`` and write them to ``path``; returns ``path``."""
    return write_episode_file(build_episode_file(imageset, way, shot, query, episodes, seed), path)


def _need(data: dict[str, Any], key: str, kind: type, path: Path) -> Any:
    if key not in data or not isinstance(data[key], kind) or isinstance(data[key], bool):
        raise DataError(f"episodes file {path}: field {key!r} is missing or not a {kind.__name__}")
    return data[key]


def read_episode_file(path: str | Path) -> EpisodeFile:
    """Read an episodes file; DataError for a missing, non-gzip, non-JSON or wrong format/version file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"episodes file {path} does not exist") from None
    except OSError as exc:
        raise DataError(f"episodes file {path} cannot be read ({exc.strerror})") from None
    try:
        data = json.loads(gzip.decompress(raw).decode())
    except (OSError, EOFError, zlib.error):
        raise DataError(f"episodes file {path} is not gzip-compressed (expected a .json.gz episodes file)") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise DataError(f"episodes file {path} does not hold JSON") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DataError(f"episodes file {path} is not a {FORMAT} file")
    if data.get("version") != VERSION:
        raise DataError(f"episodes file {path} has version {data.get('version')!r}; this fewshot-nsl reads "
                        f"version {VERSION}")
    way, shot, query = (_need(data, k, int, path) for k in ("way", "shot", "query"))
    names = _need(data, "names", list, path)
    classes = _need(data, "classes", list, path)
    items = _need(data, "episode_list", list, path)
    if _need(data, "episodes", int, path) != len(items):
        raise DataError(f"episodes file {path}: header says {data['episodes']} episodes, holds {len(items)}")
    for i, item in enumerate(items):
        ok = (isinstance(item, dict) and len(item.get("class_ids", ())) == way
              and len(item.get("support", ())) == way * shot and len(item.get("query", ())) == way * query)
        if not ok:
            raise DataError(f"episodes file {path}: episode {i} is not a {way}-way {shot}-shot {query}-query task")
        flat = item["class_ids"] + item["support"] + item["query"]
        if not all(isinstance(v, int) and v >= 0 for v in flat) or max(item["class_ids"]) >= len(classes) \
                or max(item["support"] + item["query"]) >= len(names):
            raise DataError(f"episodes file {path}: episode {i} refers to images or classes the file lacks")
    return EpisodeFile(dataset=str(_need(data, "dataset", str, path)), split=str(_need(data, "split", str, path)),
                       way=way, shot=shot, query=query, seed=int(_need(data, "seed", int, path)), names=names,
                       classes=classes, episode_list=items, path=path, sha256=hashlib.sha256(raw).hexdigest())


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


def episodes_fingerprint(imageset: LabelledSplit, episodes: Sequence[Episode]) -> str:
    """sha256 of the episodes' image *names* in order: equal exactly when two evaluations saw the same tasks."""
    digest = hashlib.sha256()
    names = imageset.image_names
    for e in episodes:
        digest.update(f"{e.way},{e.shot},{e.n_query};".encode())
        digest.update("\n".join(names[i] for i in np.concatenate([e.support, e.query])).encode())
        digest.update(b"\x00")
    return digest.hexdigest()
