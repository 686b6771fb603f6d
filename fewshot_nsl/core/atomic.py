"""Atomic files: write a temporary file in the target's folder, then rename it over the target.

A reader (or a crash) sees either the old file or the whole new one, never half of one: ``os.replace`` within one
folder is atomic on POSIX and Windows. Every writer of the package goes through :func:`replacing`, the bytes and
text writers below, or both (the decoded-image cache fills a memory map in the temporary file itself).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_write_bytes", "atomic_write_text", "replacing"]


def _default_mode() -> int:
    """0o666 less the process umask: the bits a plain ``open(path, "w")`` would give."""
    umask = os.umask(0)  # the umask can only be read by setting it; put it back at once
    os.umask(umask)
    return 0o666 & ~umask


@contextmanager
def replacing(path: str | Path, mode: int | None = None) -> Iterator[Path]:
    """Yield a fresh temporary path beside ``path``; on a clean exit it is renamed onto ``path``.

    The caller writes the temporary file in any way it likes (``open``, ``np.lib.format.open_memmap``, ...).
    When the block raises (``KeyboardInterrupt`` included), the temporary file is removed and ``path`` is left as
    it was. The parent folder is created when missing.

    Args:
        path: the file to (re)place.
        mode: permission bits of the new file; None gives what a plain ``open`` would (0o666 less the umask).
            ``mkstemp`` makes 0o600 files, so the bits are always set explicitly.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        os.fchmod(fd, _default_mode() if mode is None else mode)
        os.close(fd)
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | Path, data: bytes, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` atomically and fsync it, so that a crash right after leaves the new file.

    ``mode``: as in :func:`replacing` (None: 0o666 less the umask).
    """
    with replacing(path, mode) as tmp, open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def atomic_write_text(path: str | Path, text: str, mode: int | None = None) -> None:
    """Write ``text`` (UTF-8) to ``path`` so that a reader sees either the old or the new file, never half of one."""
    atomic_write_bytes(path, text.encode(), mode)
