"""When a training run writes ``checkpoints/last.pt`` besides its validations: every N episodes, every M minutes.

A periodic checkpoint bounds what a kill (SIGKILL, the OOM killer, a pre-empted job) can lose. Writing one
reads the generators' states but draws no number, so it never changes what the run computes; the time-based
schedule makes only *when* it happens depend on the machine, and a resume from any checkpoint ends identical.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Optional

from ..runtime.config import Config


class CheckpointSchedule:
    """Says after each step whether a periodic checkpoint is due.

    Args:
        every_episodes: a checkpoint when the count of episodes seen crosses a multiple of it (None: never).
        every_minutes: a checkpoint when that much time has passed since the last one (None: never).
        clock: seconds, monotonic (a test passes a fake one).
    """

    def __init__(self, every_episodes: Optional[int], every_minutes: Optional[float],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.every_episodes = every_episodes
        self.every_seconds = None if every_minutes is None else 60.0 * every_minutes
        self.clock = clock
        self.last = clock()

    @classmethod
    def from_config(cls, config: Config) -> "CheckpointSchedule":
        return cls(config.train.checkpoint_every_episodes, config.train.checkpoint_every_minutes)

    def due(self, previous_seen: int, seen: int) -> bool:
        """True when a checkpoint is due after a step that took the episode count from ``previous_seen`` to
        ``seen``."""
        if self.every_episodes is not None and seen // self.every_episodes > previous_seen // self.every_episodes:
            return True
        return self.every_seconds is not None and self.clock() - self.last >= self.every_seconds

    def saved(self) -> None:
        """A checkpoint was just written (by this schedule or a validation): the time is counted from now."""
        self.last = self.clock()
