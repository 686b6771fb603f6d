"""The fixed evaluation-episode file format: reading, validating and writing one file.

Format (gzip'ed JSON, ``.json.gz``, byte-identical across runs and machines)::

    {"format": "fewshot-nsl-episodes", "version": 1,
     "dataset": "mini-imagenet", "split": "test", "way": 5, "shot": 5, "query": 15, "episodes": 600, "seed": 0,
     "names": [distinct image names, sorted],            # e.g. "n0153282900000005.jpg"
     "classes": [class names of the split],               # e.g. "n01532829"
     "episode_list": [{"class_ids": [way ints into classes],
                       "support": [way*shot ints into names],   # class-major, as in Episode
                       "query": [way*query ints into names]}, ...]}

Episode ``i`` of a file made with seed ``s`` is ``EpisodeSampler(labels, way, shot, query, seed=s).episode(i)`` on
the split it was made from (see :mod:`.drawing`). The committed standard files are found by
:func:`~.standard.standard_episode_file`.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.atomic import atomic_write_bytes
from ..core.errors import DataError
from .labelled_split import LabelledSplit
from .sampler import Episode

FORMAT = "fewshot-nsl-episodes"
VERSION = 1


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


def write_episode_file(episode_file: EpisodeFile, path: str | Path) -> Path:
    """Write ``episode_file`` to ``path`` (gzip with mtime 0: the same episodes give the same bytes)."""
    path = Path(path)
    payload = {**episode_file.header(), "names": episode_file.names, "classes": episode_file.classes,
               "episode_list": episode_file.episode_list}
    data = _encode(payload)
    atomic_write_bytes(path, data, mode=0o644)  # an episodes file is meant to be shared, whatever the umask
    episode_file.path, episode_file.sha256 = path, hashlib.sha256(data).hexdigest()
    return path


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
