"""One writer per run directory: a second real process is refused with one line naming the holder; a lock left by
a killed process does not block; a refused process changes nothing in the run directory."""

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from fewshot_nsl.runtime.run_lock import LOCK_NAME, RunDirInUse, RunLock

TRAIN = [sys.executable, "-m", "fewshot_nsl", "train", "--method", "protonet", "--dataset", "synthetic",
         "--way", "3", "--shot", "1", "--query", "2", "--set", "eval.way=3", "--set", "eval.query=2",
         "--val-episodes", "2", "--no-progress", "--no-eval", "--set", "train.threads=1"]
ENV = dict(os.environ, OMP_NUM_THREADS="1")

HOLD = """
import sys, time
from fewshot_nsl.runtime.run_lock import RunLock
with RunLock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(120)
"""


def _digest(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _wait_for(predicate, proc, timeout=120):
    deadline = time.time() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"exited early ({proc.returncode}): {proc.stderr.read()[-2000:]}")
        assert time.time() < deadline, "timed out"
        time.sleep(0.02)


def _refused(out):
    done = subprocess.run([*TRAIN, "--episodes", "4", "--out", str(out)], capture_output=True, text=True, env=ENV,
                          timeout=120)
    lines = [ln for ln in done.stderr.splitlines() if ln.strip() and " INFO " not in ln]
    assert done.returncode == 2 and len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    return lines[0]


def test_second_training_process_is_refused_while_the_first_trains(tmp_path):
    out = tmp_path / "run"
    first = subprocess.Popen([*TRAIN, "--episodes", "100000", "--val-every", "100000", "--out", str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        lock = out / LOCK_NAME
        _wait_for(lambda: lock.exists() and lock.read_text().strip(), first)
        line = _refused(out)
        assert str(out) in line and f"process {first.pid} on host {socket.gethostname()}" in line
        assert first.poll() is None  # the first one goes on
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()


def test_refused_process_changes_nothing_and_a_stale_lock_does_not_block(tmp_path):
    out = tmp_path / "run"
    subprocess.run([*TRAIN, "--episodes", "2", "--out", str(out)], check=True, capture_output=True, env=ENV)
    assert not (out / LOCK_NAME).exists()  # released and removed at the end
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=ENV)
    assert holder.stdout.readline().strip() == "held"
    before = _digest(out)
    assert f"process {holder.pid}" in _refused(out)
    assert _digest(out) == before
    holder.send_signal(signal.SIGKILL)  # the kernel drops its lock; the file (with its pid) stays behind
    holder.wait()
    assert (out / LOCK_NAME).exists()
    done = subprocess.run([*TRAIN, "--episodes", "4", "--out", str(out)], capture_output=True, text=True, env=ENV,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "resuming" in done.stderr and not (out / LOCK_NAME).exists()


def test_in_process_lock_is_exclusive_and_released(tmp_path):
    with RunLock(tmp_path / "r"):
        with pytest.raises(RunDirInUse, match=f"in use by process {os.getpid()}"):
            RunLock(tmp_path / "r").acquire()
    with RunLock(tmp_path / "r"):  # free again
        pass
    assert not (tmp_path / "r" / LOCK_NAME).exists()
