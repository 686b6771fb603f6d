"""One writer per run directory: an exclusive ``flock`` on ``RUN_DIR/.lock`` held while a process trains into it.

The kernel drops a ``flock`` when its process dies, so a lock left by a killed process never blocks the next run;
the holder's pid and host are written into the file only to name it in the refusal. The file is removed when the
lock is released, so a run directory that nobody trains into holds no lock file.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from types import TracebackType
from typing import Optional, Type

from ..core.errors import FewShotError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: the run directory is not locked
    fcntl = None  # type: ignore[assignment]

__all__ = ["LOCK_NAME", "RunDirInUse", "RunLock"]

log = logging.getLogger(__name__)

#: the lock file's name inside the run directory
LOCK_NAME = ".lock"


class RunDirInUse(FewShotError):
    """Another live process holds the run directory."""


class RunLock:
    """``with RunLock(root):`` holds ``root`` (created if needed) for this process, or raises :class:`RunDirInUse`
    naming the directory and the holder (pid, host) at once, without waiting."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.path = self.root / LOCK_NAME
        self._fd: Optional[int] = None

    def acquire(self) -> None:
        if fcntl is None:
            log.debug("no fcntl on this platform: %s is not locked", self.root)
            return
        self.root.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 200).decode(errors="replace").strip() or "an unknown process"
                os.close(fd)
                raise RunDirInUse(f"run directory {self.root} is in use by {holder}; wait for it to finish, "
                                  "or train into another --out") from None
            # a holder that released (and removed) the file between our open and flock leaves us a dead inode
            try:
                if os.fstat(fd).st_ino == os.stat(self.path).st_ino:
                    break
            except FileNotFoundError:
                pass
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"process {os.getpid()} on host {socket.gethostname()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        # unlink while still holding it: whoever opened the old file re-checks the inode and opens afresh
        self.path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> "RunLock":
        self.acquire()
        return self

    def __exit__(self, kind: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        self.release()
