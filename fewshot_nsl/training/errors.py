"""How a training run can stop early: a diverged loss or a signal (both :class:`FewShotError`, one-line messages)."""

from __future__ import annotations

from ..core.errors import FewShotError


class TrainingDiverged(FewShotError):
    """The loss became NaN or infinite."""


class TrainingInterrupted(FewShotError):
    """SIGINT/SIGTERM arrived; the current step finished and a checkpoint was written.

    ``exit_code`` is ``128 + signum``, the shell's convention for a process ended by a signal.
    """

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.exit_code = 128 + signum
