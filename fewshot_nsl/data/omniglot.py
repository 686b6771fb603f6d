"""Omniglot (Lake et al. 2015): the Lake sets and the Vinyals split with rotations.

Splits:
    - ``background`` / ``evaluation`` (Lake): class = ``Alphabet/characterNN``, image name =
      ``Alphabet/characterNN/<file>.png``; classes in sorted order.
    - ``train`` / ``val`` / ``test`` / ``trainval`` (Vinyals, as in ProtoNet): one class per line of
      ``<root>/splits/vinyals/<split>.txt`` (``Alphabet/characterNN/rotXXX``), in file order; image name =
      ``Alphabet/characterNN/rotXXX/<file>.png``. A character may come from either Lake set; its images are
      rotated counter-clockwise by XXX degrees (after resizing, so the rotation is exact).

Images: the 105x105 1-bit PNGs are read from ``images_<set>.zip`` in place (or from extracted folders),
resized with PIL LANCZOS to ``image_size`` and stored as 1-channel uint8 **inverted: ink bright (255) on a black
(0) background**, as in ProtoNet's loader, so that zero-padding in the network matches the background.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PIL import Image

from ..core.errors import DataError
from .cache import cached_loader
from .decode import decode_image
from .omniglot_packaged import has_set, is_packaged, open_set
from .omniglot_store import SETS, OmniglotSet
from .plan import FileStamp, SplitIndex, SplitPlan, SplitSource, stamp
from .registry import DATASETS, DatasetSpec

NAME = "omniglot"
DEFAULT_SIZE = 28
VINYALS = ("train", "val", "test", "trainval")
#: mean / std (0-255) of the inverted background set at 28x28, measured once with this reader
MEAN = (20.77,)
STD = (60.16,)

_LINE = re.compile(r"^(?P<char>[^/]+/[^/]+)/rot(?P<deg>\d{3})$")

#: (class name, character "Alphabet/characterNN", rotation in degrees, Lake set)
_Class = tuple[str, str, int, str]


def _vinyals_classes(root: Path, split: str, sets: dict[str, OmniglotSet]) -> list[_Class]:
    txt = root / "splits" / "vinyals" / f"{split}.txt"
    try:
        lines = txt.read_text().split()
    except FileNotFoundError:
        raise DataError(f"Omniglot split file {txt} is missing (the Vinyals splits live in splits/vinyals/)") from None
    owner = {c: name for name, s in sets.items() for c in s.characters}
    out = []
    for n, line in enumerate(lines, start=1):
        m = _LINE.match(line)
        if m is None or int(m["deg"]) % 90:
            raise DataError(f"{txt} line {n}: {line!r} is not Alphabet/characterNN/rotXXX (XXX a multiple of 90)")
        if m["char"] not in owner:
            found = ", ".join(f"images_{name}" for name in sets)
            raise DataError(f"{txt} line {n}: character {m['char']} is in none of the sets found under {root} "
                            f"({found})")
        out.append((line, m["char"], int(m["deg"]), owner[m["char"]]))
    if not out:
        raise DataError(f"Omniglot split file {txt} lists no classes")
    return out


def _classes(root: Path, split: str) -> tuple[list[_Class], dict[str, OmniglotSet]]:
    """The classes of ``split`` and the Lake sets they come from (only the sets the split needs are opened)."""
    if split in SETS:
        lake = open_set(root, split)
        return [(c, c, 0, split) for c in sorted(lake.characters)], {split: lake}
    if split not in VINYALS:
        raise DataError(f"unknown Omniglot split {split!r} (known: {', '.join(VINYALS + SETS)})")
    sets = {}
    for name in SETS:
        try:
            sets[name] = open_set(root, name)
        except DataError:
            if not sets and name == SETS[-1]:
                raise
    return _vinyals_classes(root, split, sets), sets


def _index(classes: list[_Class], sets: dict[str, OmniglotSet]) -> SplitIndex:
    names, labels = [], []
    for label, (cls, char, _, set_name) in enumerate(classes):
        files = sets[set_name].characters[char]
        names += [f"{cls}/{f}" for f in files]
        labels += [label] * len(files)
    return SplitIndex(names, np.asarray(labels, np.int64), [c[0] for c in classes])


def source(root: Path, split: str, image_size: int = DEFAULT_SIZE) -> SplitSource:
    """The :class:`SplitSource` of one Omniglot split."""
    if not root.is_dir():
        raise DataError(f"Omniglot root {root} is not a folder")
    classes, sets = _classes(root, split)

    def fingerprint() -> list[FileStamp]:
        out: list[FileStamp] = []
        for name, s in sets.items():
            chars = sorted({c[1] for c in classes if c[3] == name})
            if chars:
                out += s.fingerprint(chars)
        if split in VINYALS:
            out.append(stamp(root / "splits" / "vinyals" / f"{split}.txt", root))
        return out

    def open_plan() -> SplitPlan:
        index = _index(classes, sets)
        data: dict[str, bytes] = {}
        for name, s in sets.items():
            data.update(s.read_all(sorted({c[1] for c in classes if c[3] == name})))
        per_image = [(classes[int(lab)], name.rsplit("/", 1)[1]) for lab, name in zip(index.labels, index.names)]

        def where(i: int) -> str:
            (_, char, _, set_name), file = per_image[i]
            return sets[set_name].path(char, file)

        def decode(i: int) -> np.ndarray:
            (_, char, degrees, _), file = per_image[i]
            image = decode_image(data[f"{char}/{file}"], image_size, 1, name=where(i), resample=Image.LANCZOS)
            return np.ascontiguousarray(np.rot90(255 - image, k=degrees // 90, axes=(0, 1)))

        return SplitPlan(index, decode, where)

    # the packaged copy keeps its cache in the user's cache folder, never inside the installed package
    data_dir = None if is_packaged(root) else root
    return SplitSource(NAME, split, image_size, 1, data_dir, fingerprint, open_plan, MEAN, STD)


def read_split_index(root: Path | None, split: str) -> SplitIndex:
    """Names, labels and classes of ``split`` from the zip listings and split files (no decoding)."""
    assert root is not None
    classes, sets = _classes(root, split)
    return _index(classes, sets)


def find_splits(root: Path | None) -> tuple[str, ...]:
    """The Vinyals splits whose ``splits/vinyals/<split>.txt`` exists and the Lake sets present under ``root``."""
    assert root is not None
    sets = tuple(s for s in SETS if has_set(root, s))
    if not sets:
        return ()
    return tuple(s for s in VINYALS if (root / "splits" / "vinyals" / f"{s}.txt").is_file()) + sets


load = cached_loader(source)


DATASETS.register(NAME)(
    DatasetSpec(NAME, load, DEFAULT_SIZE, VINYALS + SETS, True, source=source, index=read_split_index,
                find_splits=find_splits)
)
