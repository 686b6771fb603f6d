"""Class-disjoint train/val/test splits of a dataset that has none (``data.class_split``, ``data.class_split_seed``).

The rule: the classes, sorted by name, are shuffled by ``numpy.random.default_rng(seed).permutation``; with ``n``
classes and ratios ``(r_train, r_val, r_test)``, val takes ``floor(r_val * n)`` classes and test
``floor(r_test * n)`` (a 1e-9 slack absorbs float error: ``0.29 * 100`` is 29, not 28.999...), and train the rest,
in that order of the shuffled list (train first). A split whose ratio is positive must get at least one class.
The same classes, ratios and seed always give the same split.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.atomic import atomic_write_text
from ..core.errors import ConfigError, DataError

__all__ = ["SPLITS", "ClassSplit", "parse_ratios", "split_classes", "write_class_split"]

log = logging.getLogger(__name__)

#: the splits a class split makes, in the order they take the shuffled classes
SPLITS = ("train", "val", "test")
#: the file a run directory records its class split in
FILE_NAME = "class_split.json"
_SLACK = 1e-9


def parse_ratios(value: str | Sequence[Any], key: str = "data.class_split") -> tuple[float, float, float]:
    """``"0.64,0.16,0.20"`` or ``[0.64, 0.16, 0.2]`` as three floats; ConfigError (one line naming ``key``)
    unless they are three non-negative numbers summing to 1 within 1e-6."""
    parts: list[Any] = value.split(",") if isinstance(value, str) else list(value)
    try:
        ratios = tuple(float(p) for p in parts if not isinstance(p, bool))
    except (TypeError, ValueError):
        ratios = ()
    if len(ratios) != 3 or len(parts) != 3 or not all(math.isfinite(r) for r in ratios):
        raise ConfigError(f"setting {key}: expected three numbers train,val,test (e.g. 0.64,0.16,0.20), "
                          f"got {value!r}")
    if min(ratios) < 0 or abs(sum(ratios) - 1.0) > 1e-6:
        raise ConfigError(f"setting {key}: the ratios must be non-negative and sum to 1, got {value!r} "
                          f"(sum {sum(ratios):g})")
    return ratios  # type: ignore[return-value]


@dataclass(frozen=True)
class ClassSplit:
    """A rule splitting a dataset's classes into train/val/test (see the module docstring).

    Attributes:
        ratios: (train, val, test) fractions of the classes, non-negative, summing to 1.
        seed: seeds the shuffle of the sorted class names.
    """

    ratios: tuple[float, float, float]
    seed: int = 0

    @classmethod
    def from_setting(cls, value: str | Sequence[Any] | None, seed: int = 0) -> ClassSplit | None:
        """The rule of the config values ``data.class_split`` (None: no class split) and ``data.class_split_seed``."""
        return None if value is None else cls(parse_ratios(value), int(seed))

    def describe(self) -> str:
        """``0.64,0.16,0.2 (seed 0)``: the rule as the user wrote it, for messages."""
        return ",".join(f"{r:g}" for r in self.ratios) + f" (seed {self.seed})"


def split_classes(class_names: Sequence[str], rule: ClassSplit, where: str) -> dict[str, list[str]]:
    """``{"train": [...], "val": [...], "test": [...]}``: each split's classes (sorted by name), disjoint, covering
    ``class_names``. ``where`` names the dataset in the DataError raised when a split with a positive ratio would
    get no class."""
    names = sorted(set(class_names))
    n = len(names)
    order = [names[i] for i in np.random.default_rng(rule.seed).permutation(n)]
    n_val, n_test = (math.floor(r * n + _SLACK) for r in rule.ratios[1:])
    counts = {"train": n - n_val - n_test, "val": n_val, "test": n_test}
    for split, ratio in zip(SPLITS, rule.ratios):
        if ratio > 0 and counts[split] < 1:
            raise DataError(f"{where}: class_split {rule.describe()} of its {n} classes gives split {split!r} no "
                            "class (val and test take floor(ratio * classes)); use more classes or larger ratios")
    out, start = {}, 0
    for split in SPLITS:
        out[split] = sorted(order[start:start + counts[split]])
        start += counts[split]
    return out


def write_class_split(run_dir: str | Path, rule: ClassSplit, dataset: str, root: str | Path,
                      splits: dict[str, list[str]]) -> Path:
    """Record ``splits`` (from :func:`split_classes`) in ``run_dir/class_split.json`` (atomically; an identical
    file is left untouched) and log it. The caller writes it only once the run directory is accepted."""
    path = Path(run_dir) / FILE_NAME
    record = {"dataset": dataset, "root": str(root), "ratios": list(rule.ratios), "seed": rule.seed,
              "rule": "classes sorted by name, shuffled by numpy default_rng(seed).permutation; val and test take "
                      "floor(ratio * classes), train the rest",
              "classes": {split: list(splits[split]) for split in SPLITS}}
    text = json.dumps(record, indent=1) + "\n"
    if path.is_file() and path.read_text() == text:
        return path
    atomic_write_text(path, text)
    log.info("class split %s of %s %s: %s; recorded in %s", rule.describe(), dataset, root,
             ", ".join(f"{s} {len(splits[s])} classes" for s in SPLITS), path)
    return path
