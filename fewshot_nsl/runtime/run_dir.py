"""The files of a run directory, and the check that it can be written before anything is touched."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import FewShotError


@dataclass(frozen=True)
class RunDir:
    """Paths inside a run directory.

    Layout: ``config.yaml`` (the resolved config), ``metrics.jsonl`` (training and validation lines),
    ``checkpoints/last.pt`` and ``checkpoints/best.pt`` (atomic), ``eval/*.json`` (per-episode accuracies),
    ``DONE`` (written when training finished), ``tensorboard/`` (with ``train.tensorboard``), ``.lock`` (while a
    process trains into it: :mod:`.run_lock`).
    """

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.jsonl"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def last(self) -> Path:
        return self.checkpoints / "last.pt"

    @property
    def best(self) -> Path:
        return self.checkpoints / "best.pt"

    @property
    def done(self) -> Path:
        return self.root / "DONE"

    @property
    def tensorboard(self) -> Path:
        return self.root / "tensorboard"

    @property
    def eval_dir(self) -> Path:
        return self.root / "eval"

    def checkpoint(self, which: str) -> Path:
        """``best``, ``last`` or a path to a checkpoint file."""
        if which in ("best", "last"):
            return self.checkpoints / f"{which}.pt"
        return Path(which)

    def ensure_writable(self) -> None:
        """Create the folder if needed and prove it can be written; a clear error otherwise."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=".write-test.", dir=self.root)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise FewShotError(f"output directory {self.root} is not writable ({reason})") from None

    def check_writable(self) -> None:
        """Prove the folder can be written (or created) without creating anything; a clear error otherwise.

        An existing folder is probed with a file that is removed at once; for a new one, its nearest existing
        ancestor must be a writable folder.
        """
        if self.root.is_dir():
            self.ensure_writable()
            return
        target = self.root
        while not target.exists() and target.parent != target:
            target = target.parent
        if not target.is_dir():
            raise FewShotError(f"output directory {self.root} is not writable ({target} is not a folder)")
        if not os.access(target, os.W_OK | os.X_OK):
            raise FewShotError(f"output directory {self.root} is not writable (cannot create it in {target})")
