"""The result of one evaluation: per-episode accuracies, their mean and 95% CI, and the full protocol.

Saved as JSON (``run_dir/eval/<split>_<way>way<shot>shot.json``) so that two methods evaluated on the very same
episodes can be compared with :func:`compare_results` (paired difference with its CI). Accuracies are
fractions (0.4779, not 47.79) in the object and in the file; only :meth:`EvalResult.summary` prints percent.
Version 1 files held percent; they are refused (evaluate again) rather than read in the wrong unit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import DataError
from ..core.atomic import atomic_write_text
from ..core.stats import CI_FORMULA, mean_ci95, paired_difference

FORMAT = "fewshot-nsl-eval"
#: 2: accuracies as fractions (version 1 held percent)
VERSION = 2


@dataclass
class EvalResult:
    """Accuracies as **fractions** in [0, 1].

    Attributes:
        accuracies: (episodes,) float64 accuracy of each episode, in episode order.
        mean, ci95: mean and 1.96·σ/√n (σ population std) of ``accuracies``.
        way, shot, query, episodes: the protocol's shape.
        protocol: every setting that produced the number (dataset, split, image_size, episodes file + sha256 or
            seed, ``episodes_sha256`` fingerprint of the tasks, ``precision`` of the forward passes, formula, ...).
    """

    accuracies: np.ndarray
    mean: float
    ci95: float
    way: int
    shot: int
    query: int
    episodes: int
    protocol: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_accuracies(cls, accuracies: np.ndarray, way: int, shot: int, query: int,
                        protocol: dict[str, Any]) -> EvalResult:
        acc = np.asarray(accuracies, dtype=np.float64)
        mean, ci = mean_ci95(acc)
        protocol = {**protocol, "formula": CI_FORMULA, "n": int(acc.size)}
        return cls(acc, mean, ci, int(way), int(shot), int(query), int(acc.size), protocol)

    def summary(self) -> str:
        """One line: accuracy ± CI in percent and every protocol setting."""
        p = self.protocol
        source = f"file {p['episodes_file']}" if p.get("episodes_file") else f"seed {p.get('seed')}"
        where = f"{p.get('dataset', '?')}/{p.get('split', '?')}"
        method = f"{p['method']} " if p.get("method") else ""
        precision = f", precision {p['precision']}" if p.get("precision") else ""
        return (f"{method}{where} {self.way}-way {self.shot}-shot {self.query}-query, {self.episodes} episodes "
                f"({source}), image size {p.get('image_size', '?')}{precision}: "
                f"{100 * self.mean:.2f} ± {100 * self.ci95:.2f} % [{CI_FORMULA}, n={self.episodes}]")

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, "mean": self.mean, "ci95": self.ci95, "way": self.way,
                "shot": self.shot, "query": self.query, "episodes": self.episodes, "protocol": self.protocol,
                "accuracies": [float(a) for a in self.accuracies]}


def save_result(result: EvalResult, path: str | Path) -> Path:
    """Write ``result`` (protocol + per-episode accuracies) as JSON, atomically."""
    path = Path(path)
    atomic_write_text(path, json.dumps(result.to_dict(), indent=1) + "\n")
    return path


def load_result(path: str | Path) -> EvalResult:
    """Read a result written by :func:`save_result`; DataError when it is missing or not one."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(f"evaluation result {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise DataError(f"evaluation result {path} is not a JSON file") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DataError(f"{path} is not a {FORMAT} version {VERSION} file")
    if data.get("version") != VERSION:
        raise DataError(f"{path} is a {FORMAT} version {data.get('version')!r} file (version 1 held percent), "
                        f"not version {VERSION} (fractions); evaluate the run again")
    try:
        acc = np.asarray(data["accuracies"], dtype=np.float64)
        return EvalResult(acc, float(data["mean"]), float(data["ci95"]), int(data["way"]), int(data["shot"]),
                          int(data["query"]), int(data["episodes"]), dict(data["protocol"]))
    except (KeyError, TypeError, ValueError):
        raise DataError(f"evaluation result {path} lacks fields or has malformed ones") from None


def same_episodes(a: EvalResult, b: EvalResult) -> bool:
    """True when both results were computed on identical tasks (same fingerprint of image names)."""
    fa, fb = a.protocol.get("episodes_sha256"), b.protocol.get("episodes_sha256")
    return bool(fa) and fa == fb and a.episodes == b.episodes


def compare_results(a: EvalResult, b: EvalResult, name_a: str = "a", name_b: str = "b") -> tuple[float, float]:
    """(mean, ci95) of ``a - b`` per episode (fractions); DataError unless both saw the very same episodes."""
    if not same_episodes(a, b):
        raise DataError(f"results {name_a} and {name_b} were not computed on the same episodes "
                        f"(dataset/split/way/shot/query/episodes file or seed differ); a paired difference needs them")
    return paired_difference(a.accuracies, b.accuracies)
