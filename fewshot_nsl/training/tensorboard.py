"""Optional TensorBoard scalars (``train.tensorboard``): the records of ``metrics.jsonl``, in ``RUN_DIR/tensorboard/``.

The ``tensorboard`` package is an extra (``pip install 'fewshot-nsl[tensorboard]'``); when the setting is on and it
is missing, the run is refused before anything is written. Off, nothing of this module runs.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

from ..core.errors import ConfigError

#: record keys that are coordinates (or flags), not scalars to plot; TensorBoard keeps its own wall clock
_NOT_SCALARS = frozenset({"step", "episode", "wall_s"})


def summary_writer_class() -> Any:
    """``torch.utils.tensorboard.SummaryWriter``; ConfigError (one line) when the package is not installed."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ConfigError("setting train.tensorboard is true but the tensorboard package is not installed "
                          "(pip install 'fewshot-nsl[tensorboard]', or set train.tensorboard=false)") from None
    return SummaryWriter


class ScalarLog:
    """Writes each metrics record as scalars ``train/<key>`` or ``val/<key>`` at x = episodes seen.

    ``purge_step``: on resume, the episode count of the checkpoint; TensorBoard drops the events written after it
    by the killed run (as ``metrics.jsonl`` is cut back to the checkpoint's records).
    """

    def __init__(self, folder: Path, purge_step: Optional[int] = None) -> None:
        self.writer = summary_writer_class()(log_dir=str(folder), purge_step=purge_step)

    def write(self, record: Dict[str, Any]) -> None:
        x = int(record["episode"])
        for key, value in record.items():
            if key in _NOT_SCALARS or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            tag = f"val/{key[4:]}" if key.startswith("val_") else f"train/{key}"
            self.writer.add_scalar(tag, value, x)

    def close(self) -> None:
        self.writer.close()


@contextlib.contextmanager
def scalar_log(enabled: bool, folder: Path, episodes_seen: int) -> Iterator[Optional[ScalarLog]]:
    """A :class:`ScalarLog` into ``folder`` (closed on exit) when ``enabled``, else None.

    ``episodes_seen`` > 0 (a resumed run) purges the events written after that point.
    """
    if not enabled:
        yield None
        return
    log = ScalarLog(folder, purge_step=episodes_seen or None)
    try:
        yield log
    finally:
        log.close()
