"""Helpers shared by the benchmark scripts: machine description, memory sampling, JSON output."""

from __future__ import annotations

import json
import os
import platform
import threading
import time
from typing import Any, Dict, List

import torch


def machine() -> Dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def _anon_rss_kib(pid: int) -> int:
    """Anonymous resident memory of ``pid`` (excludes file-backed pages such as a mapped image cache)."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> List[int]:
    out: List[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                out += [int(x) for x in handle.read().split()]
    except OSError:
        pass
    return out


class PeakAnonMemory:
    """Samples the anonymous RSS of this process and its children (DataLoader workers) every 20 ms."""

    def __init__(self) -> None:
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            total = _anon_rss_kib(me) + sum(_anon_rss_kib(c) for c in _children(me))
            self.peak_kib = max(self.peak_kib, total)
            time.sleep(0.02)

    def __enter__(self) -> "PeakAnonMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_gib(self) -> float:
        return self.peak_kib / 2**20


def emit(payload: Dict[str, Any], as_json: bool) -> None:
    """With ``as_json`` print the payload as one JSON object on the last line of stdout."""
    if as_json:
        print(json.dumps(payload))
