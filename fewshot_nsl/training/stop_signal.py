"""A context manager that turns SIGINT/SIGTERM into a flag the training loop checks after each step."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any, Dict, Optional

log = logging.getLogger(__name__)


class StopFlag:
    """Remembers a SIGINT/SIGTERM so the loop can stop after the current step.

    ``signum`` is None until a signal arrives. A second signal raises KeyboardInterrupt at once. Handlers are
    installed only in the main thread (Python allows no others) and the previous ones are restored on exit.
    """

    def __init__(self) -> None:
        self.signum: Optional[int] = None
        self._previous: Dict[int, Any] = {}

    def __enter__(self) -> "StopFlag":
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.signum is not None:  # a second signal: stop now
            raise KeyboardInterrupt
        self.signum = signum
        log.warning("received signal %d: finishing the current step, then writing a checkpoint", signum)

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
