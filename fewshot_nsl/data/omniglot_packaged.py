"""The Omniglot copy shipped inside the package: both Lake sets as bit-packed 105x105 1-bit images.

Layout of the packaged root (``fewshot_nsl/data/packaged/omniglot/``, built by ``tools/pack_omniglot.py``)::

    images_background.npz   names (N,) str "Alphabet/characterNN/<id>_<drawer>.png", sorted;
    images_evaluation.npz   ink (N, 105, 14) uint8: np.packbits of the ink mask (1 = stroke), row by row
    splits/vinyals/*.txt    the Vinyals split lists, as in the real distribution
    LICENSE-omniglot.txt    Lake et al.'s MIT licence

The original PNGs are 1-bit, so the 105x105 bits are the whole image: each one is handed to the reader as a PBM
(``P4``) bitmap whose rows are exactly these bytes, and the reader decodes it with its own path (PIL, LANCZOS to
any ``image_size``, inverted), so every image size gives the same pixels as the real zips. Storing the 28x28
LANCZOS output instead would be grey-level (256 values) and larger (6.5 MB against 4.5 MB deflated).

Loading never unpickles (``np.load(allow_pickle=False)``).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from ..core.errors import DataError
from .omniglot_store import SETS, OmniglotSet
from .plan import FileStamp, stamp
from .roots import PACKAGED

#: the packaged Omniglot root
ROOT = PACKAGED / "omniglot"
SIDE = 105
#: bytes per bit-packed row of SIDE pixels
ROW_BYTES = (SIDE + 7) // 8
#: a PBM header: PIL reads "P4" bitmaps as mode "1" with bit 1 = black, i.e. ink
PBM_HEADER = f"P4\n{SIDE} {SIDE}\n".encode()


def packed_file(root: Path, set_name: str) -> Path:
    """``<root>/images_<set>.npz``."""
    return root / f"images_{set_name}.npz"


def has_set(root: Path, set_name: str) -> bool:
    """True when ``root`` holds the Lake set as a zip, an extracted folder or a packed ``.npz``."""
    return ((root / f"images_{set_name}.zip").is_file() or (root / f"images_{set_name}").is_dir()
            or packed_file(root, set_name).is_file())


def is_packaged(root: Path) -> bool:
    """True when ``root`` holds packed sets and no real ones (the real files win when both are present)."""
    real = any((root / f"images_{s}.zip").is_file() or (root / f"images_{s}").is_dir() for s in SETS)
    return not real and any(packed_file(root, s).is_file() for s in SETS)


def open_set(root: Path, set_name: str) -> OmniglotSet | PackagedSet:
    """The Lake set ``set_name`` under ``root``: the real zip / folder when present, else the packed file."""
    if not is_packaged(root):
        return OmniglotSet(root, set_name)
    if not packed_file(root, set_name).is_file():
        raise DataError(f"Omniglot {set_name} set not found: {packed_file(root, set_name)} does not exist")
    return PackagedSet(root, set_name)


def read_packed(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(names (N,) str, ink (N, SIDE, ROW_BYTES) uint8) of one packed file; DataError naming it when malformed."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            names, ink = npz["names"], npz["ink"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path} is not a packed Omniglot set ({type(exc).__name__}: {exc})") from None
    if names.dtype.kind != "U" or ink.dtype != np.uint8 or ink.shape != (len(names), SIDE, ROW_BYTES):
        raise DataError(f"{path} is not a packed Omniglot set (names {names.dtype} {names.shape}, "
                        f"ink {ink.dtype} {ink.shape}; expected str names and uint8 ink (N, {SIDE}, {ROW_BYTES}))")
    return names, ink


class PackagedSet:
    """One Lake set read from a packed ``.npz``; the same interface as :class:`OmniglotSet`.

    Attributes:
        characters: ``Alphabet/characterNN`` -> sorted PNG file names of that character (the original names, so
            episode files and caches name the same images as with the real zips).
    """

    def __init__(self, root: Path, set_name: str) -> None:
        self.root, self.set_name = root, set_name
        self.source = packed_file(root, set_name)
        names, _ = read_packed(self.source)
        self.characters: dict[str, list[str]] = {}
        for name in names.tolist():
            char, file = name.rsplit("/", 1)
            self.characters.setdefault(char, []).append(file)
        if not self.characters:
            raise DataError(f"{self.source} holds no Omniglot images")

    def path(self, character: str, file: str) -> str:
        """Human-readable location of one image (for error messages)."""
        return f"{self.source}:{character}/{file}"

    def fingerprint(self, characters: list[str] | None = None) -> list[FileStamp]:
        """The stamp of the packed file (every character lives in it)."""
        return [stamp(self.source, self.root)]

    def read_all(self, characters: list[str]) -> dict[str, bytes]:
        """``{"Alphabet/characterNN/file.png": PBM bytes}`` of every image of ``characters``."""
        names, ink = read_packed(self.source)
        row = {n: i for i, n in enumerate(names.tolist())}
        return {key: PBM_HEADER + ink[row[key]].tobytes()
                for key in (f"{c}/{f}" for c in characters for f in self.characters[c])}
