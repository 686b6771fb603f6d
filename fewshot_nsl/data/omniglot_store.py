"""Where Omniglot's PNGs come from: ``images_<set>.zip`` (read in place) or an extracted ``images_<set>/`` folder."""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..core.errors import DataError
from .plan import FileStamp, stamp, stamps

SETS = ("background", "evaluation")


class OmniglotSet:
    """The characters of one Lake set (``background`` or ``evaluation``) in a zip or a folder.

    Attributes:
        characters: ``Alphabet/characterNN`` -> sorted PNG file names of that character.
    """

    def __init__(self, root: Path, set_name: str) -> None:
        self.root, self.set_name = root, set_name
        self.folder = root / f"images_{set_name}"
        self.zip_path = root / f"images_{set_name}.zip"
        self.characters: dict[str, list[str]] = {}
        self._members: dict[str, str] = {}
        if self.folder.is_dir():
            self._list_folder()
        elif self.zip_path.is_file():
            self._list_zip()
        else:
            raise DataError(f"Omniglot {set_name} set not found: neither {self.zip_path} nor {self.folder}/ exists")
        if not self.characters:
            raise DataError(f"{self.source} holds no Omniglot PNGs (<Alphabet>/<characterNN>/<file>.png)")

    @property
    def source(self) -> Path:
        return self.folder if self.folder.is_dir() else self.zip_path

    @property
    def is_zip(self) -> bool:
        return not self.folder.is_dir()

    def _list_folder(self) -> None:
        for png in sorted(self.folder.glob("*/*/*.png")):
            key = f"{png.parent.parent.name}/{png.parent.name}"
            self.characters.setdefault(key, []).append(png.name)

    def _list_zip(self) -> None:
        try:
            with zipfile.ZipFile(self.zip_path) as zf:
                names = zf.namelist()
        except (zipfile.BadZipFile, OSError) as exc:
            raise DataError(f"{self.zip_path} is truncated or not a zip file ({exc})") from None
        for member in sorted(names):
            parts = member.rstrip("/").split("/")
            if len(parts) < 3 or not parts[-1].lower().endswith(".png") or member.endswith("/"):
                continue
            key = f"{parts[-3]}/{parts[-2]}"
            self.characters.setdefault(key, []).append(parts[-1])
            self._members[f"{key}/{parts[-1]}"] = member

    def path(self, character: str, file: str) -> str:
        """Human-readable location of one PNG (for error messages)."""
        if self.is_zip:
            return f"{self.zip_path}:{self._members[f'{character}/{file}']}"
        return str(self.folder / character / file)

    def fingerprint(self, characters: list[str] | None = None) -> list[FileStamp]:
        """Stamps of the zip, or of the PNGs of ``characters`` (default all) in the folder."""
        if self.is_zip:
            return [stamp(self.zip_path, self.root)]
        chars = self.characters if characters is None else characters
        return stamps((self.folder / c / f for c in chars for f in self.characters[c]), self.root)

    def read_all(self, characters: list[str]) -> dict[str, bytes]:
        """``{"Alphabet/characterNN/file.png": bytes}`` of every PNG of ``characters``."""
        out: dict[str, bytes] = {}
        if not self.is_zip:
            for c in characters:
                for f in self.characters[c]:
                    try:
                        out[f"{c}/{f}"] = (self.folder / c / f).read_bytes()
                    except OSError as exc:
                        raise DataError(f"{self.folder / c / f} is unreadable ({exc})") from None
            return out
        try:
            with zipfile.ZipFile(self.zip_path) as zf:
                for c in characters:
                    for f in self.characters[c]:
                        out[f"{c}/{f}"] = zf.read(self._members[f"{c}/{f}"])
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise DataError(f"{self.zip_path} is truncated or damaged ({exc})") from None
        return out
