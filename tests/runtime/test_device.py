"""Thread defaults: respect OMP_NUM_THREADS, CPU affinity and the number of local processes."""

from __future__ import annotations

import os

import pytest

from fewshot_nsl.runtime import device


def test_omp_num_threads_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert device.default_threads(world_size=2) == 3


def test_affinity_divided_among_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(device, "usable_cores", lambda: 8)
    assert device.default_threads() == 8
    assert device.default_threads(world_size=2) == 4
    assert device.default_threads(world_size=16) == 1


def test_ignores_malformed_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "lots")
    monkeypatch.setattr(device, "usable_cores", lambda: 2)
    assert device.default_threads() == 2


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="CPU affinity is Linux-only")
def test_usable_cores_follows_affinity() -> None:
    assert device.usable_cores() == len(os.sched_getaffinity(0))
